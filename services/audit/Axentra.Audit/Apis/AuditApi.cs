using System.Globalization;
using Axentra.Audit.Domain;
using Axentra.BuildingBlocks.Bindings;
using Axentra.BuildingBlocks.Registry;
using Axentra.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Axentra.Audit.Apis;

/// <summary>A page of a store's audited events.</summary>
public sealed record AuditEventPage(
    string StoreId, string EventType, string? From, string? To, IReadOnlyList<AuditedEvent> Events, string? ContinuationToken);

/// <summary>
/// The audit trail's ops read API under <c>/audit</c>. Operators only: the host puts the ops credential check and
/// the access log in front of the returned group (the intake edge in the distributed mode, the standalone host
/// in-process). Payload bodies are PHI: they are served, never logged, and never cached.
/// </summary>
public static class AuditApi
{
    public const string Prefix = "/audit";

    /// <summary>Bucket listings one page may take, so a sparse range answers with a token instead of scanning on.</summary>
    private const int MaxListCallsPerPage = 8;

    public static RouteGroupBuilder MapAuditApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Prefix).WithTags("Audit");

        group.MapGet("/events/{eventId}", GetPayloadAsync)
            .WithName("GetAuditPayload")
            .WithSummary("The raw payload of an event, byte for byte as received")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapGet("/events/{eventId}/metadata", GetMetadataAsync)
            .WithName("GetAuditMetadata")
            .WithSummary("The metadata file of a store_create event")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapGet("/stores/{storeId}/events/{eventType}", ListAsync)
            .WithName("ListAuditedEvents")
            .WithSummary("A store's audited events of one type over an inclusive range of UTC days, oldest day first (by event id within a day), paginated")
            .WithDescription("Query: from and to (yyyy-MM-dd, UTC, both optional), page_size, continuation_token (from the previous page).")
            .Produces<AuditEventPage>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        return group;
    }

    private static async Task<IResult> GetPayloadAsync(
        string eventId, EventRegistry registry, IObjectBuckets buckets, IOptions<AuditOptions> options, HttpContext context, CancellationToken cancellationToken)
    {
        var (view, problem) = await FindEventAsync(eventId, registry, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var bytes = await buckets.Open(options.Value.Bucket).GetAsync(view!.Record.S3Key, cancellationToken).ConfigureAwait(false);
        return bytes is null
            ? NotFound($"Event '{eventId}' is registered but its audit copy ({view.Record.S3Key}) is not written yet.")
            : Json(context, bytes);
    }

    private static async Task<IResult> GetMetadataAsync(
        string eventId, EventRegistry registry, IObjectBuckets buckets, IOptions<AuditOptions> options, HttpContext context, CancellationToken cancellationToken)
    {
        var (view, problem) = await FindEventAsync(eventId, registry, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (view!.Record.EventType != EventTypes.StoreCreate)
        {
            return NotFound($"Event '{eventId}' is a {view.Record.EventType} event; only {EventTypes.StoreCreate} events have a metadata file.");
        }

        var key = StorageKeys.RawAuditMetadata(view.Record.S3Key);
        var bytes = await buckets.Open(options.Value.Bucket).GetAsync(key, cancellationToken).ConfigureAwait(false);
        return bytes is null ? NotFound($"The metadata file of event '{eventId}' ({key}) is not written yet.") : Json(context, bytes);
    }

    private static async Task<IResult> ListAsync(
        string storeId,
        string eventType,
        [FromQuery] string? from,
        [FromQuery] string? to,
        [FromQuery(Name = "page_size")] string? pageSize,
        [FromQuery(Name = "continuation_token")] string? continuationToken,
        IObjectBuckets buckets,
        IOptions<AuditOptions> options,
        CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!SafeKeySegment.IsValid(storeId))
        {
            return InvalidSegment("store_id");
        }

        if (!EventTypes.All.Contains(eventType, StringComparer.Ordinal))
        {
            return BadRequest("invalid_event_type", $"event_type must be one of: {string.Join(", ", EventTypes.All)}.");
        }

        if (!TryParseDay(from, out var fromDay) || !TryParseDay(to, out var toDay))
        {
            return BadRequest("invalid_date", "from and to must be UTC dates written yyyy-MM-dd.");
        }

        if (fromDay > toDay)
        {
            return BadRequest("invalid_range", "from must not be after to.");
        }

        var size = settings.DefaultPageSize;
        if (pageSize is not null && (!int.TryParse(pageSize, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size < 1 || size > settings.MaxPageSize))
        {
            return BadRequest("invalid_page_size", $"page_size must be an integer from 1 to {settings.MaxPageSize}.");
        }

        var listing = new AuditListing(storeId, eventType, fromDay, toDay);
        if (continuationToken is not null && !listing.Owns(continuationToken))
        {
            return BadRequest("invalid_continuation_token", "continuation_token does not belong to this store and event type; pass the one the previous page returned.");
        }

        var bucket = buckets.Open(settings.Bucket);
        var events = new List<AuditedEvent>(Math.Min(size, 128));
        var cursor = listing.StartAfter(continuationToken);
        for (var call = 0; call < MaxListCallsPerPage; call++)
        {
            // One more than the page needs: a full page is the last one only when no further event is in range.
            var page = await bucket.ListAsync(listing.Prefix, cursor, size + 1 - events.Count, cancellationToken).ConfigureAwait(false);
            foreach (var key in page.Keys)
            {
                var (found, pastEnd) = listing.Classify(key);
                if (pastEnd)
                {
                    return Page(listing, events, next: null);
                }

                if (found is not null)
                {
                    if (events.Count == size)
                    {
                        return Page(listing, events, next: cursor);
                    }

                    events.Add(found);
                }

                cursor = key;
            }

            if (page.ContinuationToken is null)
            {
                return Page(listing, events, next: null);
            }
        }

        return Page(listing, events, next: cursor);
    }

    /// <summary>The registry entry of <paramref name="eventId"/> (where its audit copy is), or the problem to answer.</summary>
    private static async Task<(EventView? View, ProblemHttpResult? Problem)> FindEventAsync(string eventId, EventRegistry registry, CancellationToken cancellationToken)
    {
        if (!SafeKeySegment.IsValid(eventId))
        {
            return (null, InvalidSegment("event_id"));
        }

        var view = await registry.GetAsync(eventId, cancellationToken).ConfigureAwait(false);
        return view is null ? (null, NotFound($"No event '{eventId}' is registered.")) : (view, null);
    }

    private static JsonHttpResult<AuditEventPage> Page(AuditListing listing, List<AuditedEvent> events, string? next) =>
        TypedResults.Json(new AuditEventPage(
            listing.StoreId,
            listing.EventType,
            listing.From?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            listing.To?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            events,
            next), AuditJsonContext.Readable.AuditEventPage);

    private static bool TryParseDay(string? text, out DateOnly? day)
    {
        day = null;
        if (text is null)
        {
            return true;
        }

        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
        {
            day = parsed;
            return true;
        }

        return false;
    }

    /// <summary>The stored bytes untouched, as JSON, and never cached on the way (PHI).</summary>
    private static FileContentHttpResult Json(HttpContext context, byte[] bytes)
    {
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Bytes(bytes, "application/json");
    }

    private static ProblemHttpResult InvalidSegment(string name) =>
        BadRequest("invalid_id", $"{name} is not a safe key segment (letters, digits, '-', '_', '.', at most {SafeKeySegment.MaxLength} characters, not '.' or '..').");

    private static ProblemHttpResult BadRequest(string code, string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid request",
            extensions: new Dictionary<string, object?> { ["code"] = code });

    private static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");
}
