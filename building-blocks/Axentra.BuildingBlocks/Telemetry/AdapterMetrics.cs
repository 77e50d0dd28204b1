using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Axentra.BuildingBlocks.Telemetry;

/// <summary>
/// Latency and outcome of every building-block call (meter and ActivitySource <c>Axentra.BuildingBlocks</c>), the
/// same for the Dapr and the embedded adapters because it is measured at the port, by the decorators in
/// <see cref="InstrumentedAdapters"/>. Attributes are low-cardinality only: operation, outcome, topic, bucket;
/// never keys or ids.
/// </summary>
public sealed class AdapterMetrics
{
    public const string Name = "Axentra.BuildingBlocks";

    /// <summary>Spans for publishes and bucket calls (the writes a webhook's trace must reach). State calls are metered only: they are the hot path.</summary>
    internal static readonly ActivitySource ActivitySource = new(Name);

    private readonly Histogram<double> _state;
    private readonly Histogram<double> _publish;
    private readonly Histogram<double> _binding;

    public AdapterMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Name);
        _state = meter.CreateHistogram<double>("axentra.state.duration", unit: "ms", description: "Latency of state-store calls, by operation and outcome");
        _publish = meter.CreateHistogram<double>("axentra.pubsub.publish.duration", unit: "ms", description: "Latency of publishes, by topic and outcome");
        _binding = meter.CreateHistogram<double>("axentra.binding.duration", unit: "ms", description: "Latency of bucket binding calls, by bucket, operation and outcome");
    }

    internal void State(string operation, string outcome, long started) =>
        _state.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("outcome", outcome));

    internal void Publish(string topic, string outcome, long started) =>
        _publish.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            new KeyValuePair<string, object?>("topic", topic), new KeyValuePair<string, object?>("outcome", outcome));

    internal void Binding(string bucket, string operation, string outcome, long started) =>
        _binding.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            new KeyValuePair<string, object?>("bucket", bucket), new KeyValuePair<string, object?>("operation", operation),
            new KeyValuePair<string, object?>("outcome", outcome));
}
