using System.Diagnostics.Metrics;
using Axentra.Audit.Domain;

namespace Axentra.Audit;

/// <summary>The audit service's metrics (meter <c>Axentra.Audit</c>).</summary>
public sealed class AuditMetrics
{
    public const string MeterName = "Axentra.Audit";

    private readonly Counter<long> _writes;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _conflicts;
    private readonly Counter<long> _failures;
    private readonly Histogram<double> _bucketDuration;

    public AuditMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _writes = meter.CreateCounter<long>("axentra.audit.writes", description: "Audit objects written (payloads and store_create metadata files)");
        _duplicates = meter.CreateCounter<long>("axentra.audit.duplicates", description: "Redeliveries whose identical object was already stored (no-op)");
        _conflicts = meter.CreateCounter<long>("axentra.audit.conflicts", description: "ALARM: an audit key already held different bytes; nothing was overwritten");
        _failures = meter.CreateCounter<long>("axentra.audit.failures", description: "Deliveries not audited, by reason (retried when transient, dropped when poison)");
        _bucketDuration = meter.CreateHistogram<double>("axentra.audit.bucket.duration", unit: "ms", description: "Latency of raw-audit bucket calls");

        // The alarm's series start at 0: a counter series that first appears at 1 looks unchanged to increase().
        foreach (var kind in new[] { AuditObject.PayloadKind, AuditObject.MetadataKind })
        {
            _conflicts.Add(0, new KeyValuePair<string, object?>("kind", kind));
        }
    }

    public void Written(string kind) => _writes.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void Duplicate(string kind) => _duplicates.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void Conflict(string kind) => _conflicts.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void Failed(string reason) => _failures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void BucketCall(string operation, double milliseconds) =>
        _bucketDuration.Record(milliseconds, new KeyValuePair<string, object?>("operation", operation));
}
