using System.ComponentModel.DataAnnotations;
using Axentra.Contracts;

namespace Axentra.Audit;

/// <summary>Settings of the audit service (section <c>Audit</c>; the bucket name comes from <c>Buckets:RawAudit</c>).</summary>
public sealed class AuditOptions
{
    public const string Section = "Audit";

    /// <summary>
    /// Logical name of the raw-audit bucket. Read from <c>Buckets:RawAudit</c>, the key the building blocks use to
    /// bind bucket names to Dapr bindings, so the two cannot disagree.
    /// </summary>
    [Required]
    public string Bucket { get; set; } = PlatformNames.Buckets.RawAudit;

    /// <summary>Events per page of the ops listing when the caller does not say.</summary>
    [Range(1, 1000)]
    public int DefaultPageSize { get; set; } = 100;

    /// <summary>Largest page the ops listing serves (S3 lists at most 1,000 keys per call).</summary>
    [Range(1, 1000)]
    public int MaxPageSize { get; set; } = 1000;
}
