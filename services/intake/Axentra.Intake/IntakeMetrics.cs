using System.Diagnostics.Metrics;

namespace Axentra.Intake;

/// <summary>The intake's own metrics (meter <c>Axentra.Intake</c>): the seed's invocations, errors, duration and duplicate rate.</summary>
public sealed class IntakeMetrics
{
    public const string MeterName = "Axentra.Intake";

    /// <summary>Bounds of the latency histogram, in ms: fine around design.md's 20 ms p99 target, coarse beyond.</summary>
    private static readonly double[] DurationBuckets = [1, 2, 3, 5, 7.5, 10, 15, 20, 25, 35, 50, 75, 100, 250, 500, 1000, 2500, 5000, 10000];

    private readonly Counter<long> _received;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _rejected;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _claims;
    private readonly Counter<long> _webhookIdReused;

    public IntakeMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _received = meter.CreateCounter<long>("axentra.webhooks.received", description: "Webhook requests received");
        _accepted = meter.CreateCounter<long>("axentra.webhooks.accepted", description: "New events registered and published (202)");
        _duplicates = meter.CreateCounter<long>("axentra.webhooks.duplicates", description: "Redeliveries answered with the original event (200)");
        _rejected = meter.CreateCounter<long>("axentra.webhooks.rejected", description: "Requests not accepted, by reason: refusals (401, 4xx) and the 503/500 answers of backends that are down or failing");
        _duration = meter.CreateHistogram<double>("axentra.webhooks.duration", unit: "ms", description: "Time to answer a webhook, by status",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _claims = meter.CreateCounter<long>("axentra.dedupe.claims", description: "Dedupe claim writes, by kind (first, replace) and result (won, conflict)");
        _webhookIdReused = meter.CreateCounter<long>(
            "axentra.webhooks.webhook_id_reused", description: "Duplicates by webhook-id whose payload differs from the original event's: answered 200 and not registered");
        _webhookIdReused.Add(0);
    }

    public void Received() => _received.Add(1);

    public void Accepted(string eventType) => _accepted.Add(1, new KeyValuePair<string, object?>("event_type", eventType));

    public void Duplicate() => _duplicates.Add(1);

    /// <summary>A delivery deduplicated by its <c>webhook-id</c> although its payload is not the original's.</summary>
    public void WebhookIdReused() => _webhookIdReused.Add(1);

    public void Rejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>A first-write (or ETag-conditional takeover) of a dedupe claim; a conflict means another delivery holds it.</summary>
    public void DedupeClaim(string kind, bool won) =>
        _claims.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("result", won ? "won" : "conflict"));

    public void Answered(double milliseconds, int status) => _duration.Record(milliseconds, new KeyValuePair<string, object?>("status", status));
}
