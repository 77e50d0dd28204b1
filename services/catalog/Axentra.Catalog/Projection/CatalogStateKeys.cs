namespace Axentra.Catalog.Projection;

/// <summary>
/// Keys of the catalog's bookkeeping in the registry state store. The catalog objects themselves stay plain
/// product JSON for the knowledge bases; versions and tombstones live here, where writes are conditional (ETag)
/// and the bucket bindings offer no such thing.
/// </summary>
public static class CatalogStateKeys
{
    public static string MasterProduct(string productId) => $"catalog:master:{productId}";

    public static string StoreProduct(string storeId, string productId) => $"catalog:store:{storeId}:product:{productId}";

    public static string StoreStatus(string storeId) => $"catalog:store:{storeId}:status";

    public static string Routed(string eventId) => $"catalog:routed:{eventId}";
}
