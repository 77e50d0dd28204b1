using System.Text.Json.Nodes;
using Axentra.BuildingBlocks.Bindings;
using Axentra.Catalog.Domain;
using Axentra.Catalog.Projection;
using Axentra.Catalog.Replay;
using Axentra.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Axentra.Catalog.Apis;

public sealed record StoreCatalogItem(string ProductId, string Key);

/// <summary>One page of a store's catalog; pass <c>next_cursor</c> back as <c>cursor</c> for the next one.</summary>
public sealed record StoreCatalogPage(string StoreId, string Status, IReadOnlyList<StoreCatalogItem> Products, string? NextCursor);

/// <summary>
/// The catalog's ops read API under <c>/catalog</c> (ops credential, checked by the host in front of the group):
/// a master product, a store's catalog page by page, one store product. Objects are returned exactly as stored.
/// </summary>
public static class CatalogApi
{
    public const string Prefix = "/catalog";
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    public static RouteGroupBuilder MapCatalogApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Prefix).WithTags("Catalog");
        group.MapGet("/products/{productId}", GetMasterProductAsync)
            .WithName("GetMasterProduct")
            .WithSummary("A product from the master catalog (field-stripped, without store-specific values)")
            .Produces<JsonObject>(StatusCodes.Status200OK, "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/stores/{storeId}/products", ListStoreProductsAsync)
            .WithName("ListStoreCatalog")
            .WithSummary("One page of a store's catalog (product ids and object keys, in key order)")
            .Produces<StoreCatalogPage>(StatusCodes.Status200OK, "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/stores/{storeId}/products/{productId}", GetStoreProductAsync)
            .WithName("GetStoreProduct")
            .WithSummary("One product of a store's catalog: the master plus the store's own values")
            .Produces<JsonObject>(StatusCodes.Status200OK, "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/admin/replay", ReplayAsync)
            .WithName("ReplayAuditTrail")
            .WithSummary("Re-drive audited events (one store or all, UTC days from..to) into the catalogs, honouring the stale-event guard; recompute=true rebuilds content after a projection fix")
            .Produces<ReplayReport>(StatusCodes.Status200OK, "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return group;
    }

    private static async Task<IResult> ReplayAsync(
        [FromQuery(Name = "store_id")] string? storeId, string? from, string? to, bool? recompute, CatalogReplay replay, CancellationToken cancellationToken)
    {
        if (storeId is not null && InvalidId("store_id", storeId) is { } invalid)
        {
            return invalid;
        }

        if (!TryParseDay(from, out var fromDay) || !TryParseDay(to, out var toDay) || fromDay > toDay)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid range", "from and to are required UTC days (yyyy-MM-dd), from <= to.");
        }

        var report = await replay.ReplayAsync(new ReplayRequest(storeId, fromDay, toDay, recompute ?? false), cancellationToken).ConfigureAwait(false);
        return TypedResults.Json(report, CatalogJsonContext.Readable.ReplayReport);
    }

    private static bool TryParseDay(string? value, out DateOnly day) =>
        DateOnly.TryParseExact(value, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out day);

    private static async Task<IResult> GetMasterProductAsync(string productId, IObjectBuckets buckets, IOptions<CatalogBucketOptions> options, CancellationToken cancellationToken)
    {
        if (InvalidId("productId", productId) is { } invalid)
        {
            return invalid;
        }

        var bytes = await buckets.Open(options.Value.Processed).GetAsync(StorageKeys.MasterProduct(productId), cancellationToken).ConfigureAwait(false);
        return bytes is null ? NotFound($"Product {productId} is not in the master catalog.") : Results.Bytes(bytes, "application/json");
    }

    private static async Task<IResult> GetStoreProductAsync(
        string storeId, string productId, IObjectBuckets buckets, IOptions<CatalogBucketOptions> options, CancellationToken cancellationToken)
    {
        if ((InvalidId("storeId", storeId) ?? InvalidId("productId", productId)) is { } invalid)
        {
            return invalid;
        }

        var bytes = await buckets.Open(options.Value.Processed).GetAsync(StorageKeys.StoreProduct(storeId, productId), cancellationToken).ConfigureAwait(false);
        return bytes is null ? NotFound($"Product {productId} is not in the catalog of store {storeId}.") : Results.Bytes(bytes, "application/json");
    }

    private static async Task<IResult> ListStoreProductsAsync(
        string storeId, string? cursor, int? limit, IObjectBuckets buckets, IOptions<CatalogBucketOptions> options, CatalogProjection projection, CancellationToken cancellationToken)
    {
        if ((InvalidId("storeId", storeId) ?? (cursor is null ? null : InvalidId("cursor", cursor))) is { } invalid)
        {
            return invalid;
        }

        if (limit is < 1 or > MaxPageSize)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid limit", $"limit must be between 1 and {MaxPageSize}.");
        }

        var prefix = StorageKeys.StoreCatalogPrefix(storeId);
        var page = await buckets.Open(options.Value.Processed)
            .ListAsync(prefix, cursor is null ? null : StorageKeys.StoreProduct(storeId, cursor), limit ?? DefaultPageSize, cancellationToken).ConfigureAwait(false);
        var items = page.Keys
            .Where(k => k.EndsWith(".json", StringComparison.Ordinal) && k.IndexOf('/', prefix.Length) < 0)
            .Select(k => new StoreCatalogItem(k[prefix.Length..^".json".Length], k))
            .ToList();
        var status = await projection.GetStoreStatusAsync(storeId, cancellationToken).ConfigureAwait(false);
        var next = page.ContinuationToken is null ? null : items.Count > 0 ? items[^1].ProductId : null;
        return TypedResults.Json(
            new StoreCatalogPage(storeId, status?.Value.Status ?? StoreStatuses.Active, items, next), CatalogJsonContext.Readable.StoreCatalogPage);
    }

    private static ProblemHttpResult? InvalidId(string name, string value) =>
        SafeKeySegment.IsValid(value)
            ? null
            : Problem(StatusCodes.Status400BadRequest, "Invalid id",
                $"{name} must be a safe key segment: letters, digits, '-', '_', '.', at most {SafeKeySegment.MaxLength} characters, not '.' or '..'.");

    private static ProblemHttpResult NotFound(string detail) => Problem(StatusCodes.Status404NotFound, "Not found", detail);

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title);
}
