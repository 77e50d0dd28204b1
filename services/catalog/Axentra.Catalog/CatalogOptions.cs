using System.ComponentModel.DataAnnotations;
using Axentra.Contracts;

namespace Axentra.Catalog;

/// <summary>The buckets the catalog reads and writes; the same keys the building blocks use (<c>Buckets:*</c>).</summary>
public sealed class CatalogBucketOptions
{
    [Required]
    public string Processed { get; set; } = PlatformNames.Buckets.Processed;

    /// <summary>Read only: store_create metadata is the validation fallback for stores.</summary>
    [Required]
    public string RawAudit { get; set; } = PlatformNames.Buckets.RawAudit;
}

/// <summary>Validation against Ben's DynamoDB tables (section <c>Catalog:Validation</c>).</summary>
public sealed class ValidationOptions
{
    public const string Section = "Catalog:Validation";

    /// <summary>
    /// Whether Ben's tables are consulted. The distributed service always does; the standalone host only when
    /// an endpoint (<see cref="ServiceUrl"/>) is configured or this is set to true.
    /// </summary>
    public bool? Enabled { get; set; }

    [Required]
    public string StoresTable { get; set; } = PlatformNames.Tables.Stores;

    [Required]
    public string StoresKey { get; set; } = "store_id";

    [Required]
    public string ProductsTable { get; set; } = PlatformNames.Tables.Products;

    [Required]
    public string ProductsKey { get; set; } = "productId";

    /// <summary>DynamoDB endpoint override, e.g. DynamoDB Local (<c>http://127.0.0.1:8000</c>); null = AWS.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>AWS region; null = the SDK's default chain (AWS_REGION, profile, instance metadata).</summary>
    public string? Region { get; set; }

    /// <summary>
    /// Strongly consistent reads (default): a product the portal wrote a moment before its webhook must not be
    /// reported missing on a 7-year registry record; the cost is one read unit instead of half, and the cache
    /// absorbs bursts.
    /// </summary>
    public bool ConsistentRead { get; set; } = true;

    /// <summary>Attempts per lookup (SDK standard retry mode: exponential backoff with jitter, throttling included).</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Timeout of one DynamoDB request.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How long a "found" answer is reused. "Absent" is never cached, so a newly created entity is seen at once.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromSeconds(60);

    [Range(0, 1_000_000)]
    public int CacheCapacity { get; set; } = 100_000;
}
