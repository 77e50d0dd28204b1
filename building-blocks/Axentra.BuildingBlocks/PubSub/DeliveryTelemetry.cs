using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Axentra.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Axentra.BuildingBlocks.PubSub;

/// <summary>
/// Wraps every delivery to an <see cref="IMessageHandler"/>, behind the Dapr subscription endpoint and the local
/// queue's dispatcher alike: a consumer span <c>deliver {topic} to {subscriber}</c> (ActivitySource
/// <c>Axentra.PubSub</c>), a logging scope with the event's <c>event_id</c>, <c>store_id</c> and
/// <c>event_type</c>, and the delivery counters and latency (meter <c>Axentra.PubSub</c>).
/// </summary>
/// <remarks>
/// Trace context: Dapr carries the W3C <c>traceparent</c> in the CloudEvent and in the subscription request's
/// header, so the ASP.NET Core server span is already the right parent there. The local queue has no headers: the
/// publisher's <c>traceparent</c> travels in the envelope and the dispatcher passes it in here.
/// </remarks>
public sealed class DeliveryTelemetry
{
    public const string Name = "Axentra.PubSub";

    private static readonly ActivitySource Source = new(Name);

    /// <summary>Bounds of the lag histogram, in seconds: from a healthy pipeline's sub-second lag to a day-long backlog.</summary>
    private static readonly double[] LagBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 21600, 86400];

    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Counter<long> _deliveries;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _lag;

    public DeliveryTelemetry(IMeterFactory meterFactory, ILoggerFactory loggerFactory, TimeProvider timeProvider)
    {
        _logger = loggerFactory.CreateLogger(Name);
        _timeProvider = timeProvider;
        var meter = meterFactory.Create(Name);
        _deliveries = meter.CreateCounter<long>("axentra.pubsub.deliveries", description: "Deliveries to subscribers, by subscriber and outcome (success, retry, drop, error)");
        _duration = meter.CreateHistogram<double>("axentra.pubsub.delivery.duration", unit: "ms", description: "Time a subscriber took to handle one delivery");
        _lag = meter.CreateHistogram<double>("axentra.pubsub.delivery.lag", unit: "s",
            description: "Age of a webhook event at its first delivery to a subscriber (now minus the envelope's received_at), by subscriber: the queue's age as its consumers see it, in both modes",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LagBuckets });
    }

    /// <summary>Runs <paramref name="handler"/> on <paramref name="message"/> inside the delivery's span and logging scope.</summary>
    /// <param name="handler">The subscriber.</param>
    /// <param name="message">The message as delivered (a webhook envelope, by convention).</param>
    /// <param name="context">The delivery's id and attempt.</param>
    /// <param name="parentFromMessage">True where no transport carried the trace context (the local queue): use the envelope's.</param>
    /// <param name="cancellationToken">Cancels the handler.</param>
    public async ValueTask<DeliveryOutcome> DeliverAsync(
        IMessageHandler handler, ReadOnlyMemory<byte> message, DeliveryContext context, bool parentFromMessage, CancellationToken cancellationToken)
    {
        var facts = MessageFacts.Peek(message.Span);
        var parent = default(ActivityContext);
        if (parentFromMessage)
        {
            _ = facts.TryGetParent(out parent);
        }

        using var activity = Source.StartActivity($"deliver {handler.Topic} to {handler.Subscriber}", ActivityKind.Consumer, parent);
        if (activity is not null)
        {
            activity.SetTag("messaging.destination.name", handler.Topic);
            activity.SetTag("messaging.consumer.group.name", handler.Subscriber);
            activity.SetTag("messaging.message.id", context.MessageId);
            activity.SetTag("axentra.delivery.attempt", context.Attempt);
            activity.SetTag("axentra.event_id", facts.EventId);
            activity.SetTag("axentra.store_id", facts.StoreId);
            activity.SetTag("axentra.event_type", facts.EventType);
        }

        using var scope = _logger.BeginScope(new EventLogScope(facts.EventId, facts.StoreId, facts.EventType, handler.Subscriber));
        // The queue's age as its consumers see it: first attempts of webhook events only (a retry's age is its
        // backoff's; a dead-letter topic's messages are as old as the retry budget).
        if (facts.ReceivedAt is { } receivedAt && context.Attempt == 1 && handler.Topic == PlatformNames.Topics.WebhookEvents)
        {
            _lag.Record(Math.Max(0, (_timeProvider.GetUtcNow() - receivedAt).TotalSeconds), new KeyValuePair<string, object?>("subscriber", handler.Subscriber));
        }

        var started = Stopwatch.GetTimestamp();
        var outcome = "error";
        try
        {
            var result = await handler.HandleAsync(message, context, cancellationToken).ConfigureAwait(false);
            outcome = result switch
            {
                DeliveryOutcome.Success => "success",
                DeliveryOutcome.Drop => "drop",
                _ => "retry",
            };
            if (result != DeliveryOutcome.Success)
            {
                activity?.SetStatus(ActivityStatusCode.Error, outcome);
            }

            return result;
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }
        finally
        {
            var subscriber = new KeyValuePair<string, object?>("subscriber", handler.Subscriber);
            var result = new KeyValuePair<string, object?>("outcome", outcome);
            _deliveries.Add(1, subscriber, result);
            _duration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, subscriber, result);
        }
    }
}

/// <summary>
/// The few envelope fields telemetry needs, read without deserialising the envelope (the payload is skipped,
/// never decoded: it must not reach logs or spans).
/// </summary>
internal readonly record struct MessageFacts(string? EventId, string? StoreId, string? EventType, string? TraceParent, string? TraceState, DateTimeOffset? ReceivedAt)
{
    /// <summary>The trace context the envelope carries (<see cref="TraceParent"/>, <see cref="TraceState"/>), when it is a valid one.</summary>
    public bool TryGetParent(out ActivityContext parent) => ActivityContext.TryParse(TraceParent, TraceState, isRemote: true, out parent);

    public static MessageFacts Peek(ReadOnlySpan<byte> json)
    {
        string? eventId = null, storeId = null, eventType = null, traceParent = null, traceState = null;
        DateTimeOffset? receivedAt = null;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return default;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.ValueSpan;
                if (!reader.Read())
                {
                    break;
                }

                if (reader.TokenType != JsonTokenType.String)
                {
                    reader.Skip();
                    continue;
                }

                if (name.SequenceEqual("event_id"u8))
                {
                    eventId = reader.GetString();
                }
                else if (name.SequenceEqual("store_id"u8))
                {
                    storeId = reader.GetString();
                }
                else if (name.SequenceEqual("event_type"u8))
                {
                    eventType = reader.GetString();
                }
                else if (name.SequenceEqual("traceparent"u8))
                {
                    traceParent = reader.GetString();
                }
                else if (name.SequenceEqual("tracestate"u8))
                {
                    traceState = reader.GetString();
                }
                else if (name.SequenceEqual("received_at"u8) && reader.TryGetDateTimeOffset(out var at))
                {
                    receivedAt = at;
                }
            }
        }
        catch (JsonException)
        {
            // Not an envelope: the handler says so (and drops it); telemetry goes on with what it has.
        }

        return new MessageFacts(eventId, storeId, eventType, traceParent, traceState, receivedAt);
    }
}

/// <summary>
/// Logging scope of one event: its ids and type, as structured properties (<c>event_id</c>, <c>store_id</c>, ...)
/// on every line logged while it is handled. Ids only: never payloads, credentials or stripped fields.
/// </summary>
public sealed class EventLogScope(string? eventId, string? storeId, string? eventType, string? subscriber = null) : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly KeyValuePair<string, object?>[] _values = Build(eventId, storeId, eventType, subscriber);

    public int Count => _values.Length;

    public KeyValuePair<string, object?> this[int index] => _values[index];

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_values).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Join(", ", _values.Select(v => $"{v.Key}={v.Value}"));

    /// <summary>Keeps <paramref name="scope"/> with the request, for code that logs about it after its scope ended (exception handlers).</summary>
    public static void Attach(HttpContext context, EventLogScope scope) => context.Items[typeof(EventLogScope)] = scope;

    /// <summary>The scope <see cref="Attach"/> kept with the request; null when none was.</summary>
    public static EventLogScope? Of(HttpContext context) =>
        context.Items.TryGetValue(typeof(EventLogScope), out var scope) ? scope as EventLogScope : null;

    private static KeyValuePair<string, object?>[] Build(string? eventId, string? storeId, string? eventType, string? subscriber)
    {
        var values = new List<KeyValuePair<string, object?>>(4);
        Add(values, "event_id", eventId);
        Add(values, "store_id", storeId);
        Add(values, "event_type", eventType);
        Add(values, "subscriber", subscriber);
        return [.. values];
    }

    private static void Add(List<KeyValuePair<string, object?>> values, string key, string? value)
    {
        if (value is not null)
        {
            values.Add(new KeyValuePair<string, object?>(key, value));
        }
    }
}
