using System.Diagnostics.Metrics;
using Axentra.Contracts;

namespace Axentra.BuildingBlocks.PubSub;

/// <summary>
/// Messages dead-lettered, by subscriber and reason (<c>exhausted</c>: the retry budget was spent; <c>dropped</c>: the
/// subscriber answered DROP), as counter <c>axentra.pubsub.dead_letters</c> of meter <c>Axentra.PubSub</c>, in both
/// modes: the standalone queue's dispatcher counts them as it dead-letters, intake's dead-letter inbox as it keeps
/// what a sidecar sent to a dead-letter topic (distributed mode). Dead letters operators resolved (closed without a
/// redrive) are counter <c>axentra.pubsub.dead_letters_resolved</c>, by subscriber.
/// </summary>
/// <remarks>
/// Each subscriber's series starts at 0 when this is built, so the first dead letter is an increase a rate or
/// <c>increase()</c> sees: a counter series that first appears at 1 looks unchanged to Prometheus.
/// </remarks>
public sealed class DeadLetterMetrics
{
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _resolved;

    public DeadLetterMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(DeliveryTelemetry.Name);
        _deadLettered = meter.CreateCounter<long>("axentra.pubsub.dead_letters", description: "Messages dead-lettered, by subscriber and reason (exhausted, dropped)");
        _resolved = meter.CreateCounter<long>("axentra.pubsub.dead_letters_resolved", description: "Dead letters an operator resolved (closed without a redrive), by subscriber");
        foreach (var subscriber in PlatformNames.AppIds.WebhookEventSubscribers)
        {
            Add(subscriber, dropped: false, 0);
            Add(subscriber, dropped: true, 0);
            _resolved.Add(0, new KeyValuePair<string, object?>("subscriber", subscriber));
        }
    }

    public void DeadLettered(string subscriber, bool dropped) => Add(subscriber, dropped, 1);

    public void Resolved(string subscriber) => _resolved.Add(1, new KeyValuePair<string, object?>("subscriber", subscriber));

    private void Add(string subscriber, bool dropped, long count) =>
        _deadLettered.Add(count, new KeyValuePair<string, object?>("subscriber", subscriber), new KeyValuePair<string, object?>("reason", dropped ? "dropped" : "exhausted"));
}
