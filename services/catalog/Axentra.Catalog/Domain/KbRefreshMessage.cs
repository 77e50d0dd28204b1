namespace Axentra.Catalog.Domain;

public static class KbRefreshChanges
{
    public const string Upsert = "upsert";
    public const string Delete = "delete";
}

/// <summary>
/// Published on <c>axentra-kb-refresh</c> when a store's catalog really changed: which products, how, where the
/// store's catalog lives, and which events caused it. Downstream knowledge bases re-read the named objects.
/// </summary>
public sealed record KbRefreshMessage
{
    public required string StoreId { get; init; }

    public required IReadOnlyList<string> ProductIds { get; init; }

    /// <summary><c>upsert</c> (the objects exist with new content) or <c>delete</c> (they were removed).</summary>
    public required string Change { get; init; }

    /// <summary>The processed bucket holding the store's catalog.</summary>
    public required string Bucket { get; init; }

    /// <summary>The store catalog's key prefix: <c>stores/{store_id}/products/</c>.</summary>
    public required string CatalogPrefix { get; init; }

    public required IReadOnlyList<string> EventIds { get; init; }

    public required DateTimeOffset Timestamp { get; init; }
}
