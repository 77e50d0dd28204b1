using System.Globalization;

namespace Axentra.Contracts;

/// <summary>Object keys in the buckets; identical in S3 and in the standalone data directory.</summary>
public static class StorageKeys
{
    /// <summary><c>{store_id}/{event_type}/{yyyy}/{MM}/{dd}/{event_id}.json</c>, dated by the UTC receipt time.</summary>
    public static string RawAuditObject(string storeId, string eventType, DateTimeOffset receivedAt, string eventId)
    {
        var utc = receivedAt.UtcDateTime;
        return string.Create(CultureInfo.InvariantCulture, $"{storeId}/{eventType}/{utc:yyyy}/{utc:MM}/{utc:dd}/{eventId}.json");
    }

    /// <summary>The <c>store_create</c> metadata object written beside the raw payload.</summary>
    public static string RawAuditMetadata(string rawAuditObjectKey) =>
        string.Concat(rawAuditObjectKey.AsSpan(0, rawAuditObjectKey.Length - ".json".Length), ".metadata.json");

    /// <summary>Where the master catalog's objects are: every key of it starts with this.</summary>
    public const string MasterPrefix = "master/";

    public static string MasterProduct(string productId) => $"{MasterPrefix}products/{productId}.json";

    public static string StoreCatalogPrefix(string storeId) => $"stores/{storeId}/products/";

    public static string StoreProduct(string storeId, string productId) => $"{StoreCatalogPrefix(storeId)}{productId}.json";
}
