using System.Diagnostics;
using System.Diagnostics.Metrics;
using Axentra.BuildingBlocks.PubSub;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// The local queue's health per subscriber (meter <c>Axentra.PubSub</c>): depth and age of the oldest pending
/// delivery and the dead letters held, read from the queue's tables at most once a second however often it is
/// scraped; and retries and dead-letterings (<see cref="DeadLetterMetrics"/>) counted by the dispatcher as they happen.
/// </summary>
/// <remarks>
/// In the distributed mode the broker owns the queue's facts (SQS queue depth and age, see docs/observability.md),
/// so the gauges and the retry counter exist in the standalone host only; dead letters are counted in both modes.
/// </remarks>
public sealed class LocalQueueMetrics
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);

    private readonly EmbeddedDatabase _database;
    private readonly TimeProvider _timeProvider;
    private readonly Lazy<string[]> _subscribers;
    private readonly Counter<long> _retries;
    private readonly DeadLetterMetrics _deadLetters;
    private readonly Lock _gate = new();
    private Dictionary<string, SubscriberQueue> _snapshot = new(StringComparer.Ordinal);
    private long _snapshotAt;

    public LocalQueueMetrics(EmbeddedDatabase database, IEnumerable<IMessageHandler> handlers, IMeterFactory meterFactory, DeadLetterMetrics deadLetters, TimeProvider timeProvider)
    {
        _database = database;
        _deadLetters = deadLetters;
        _timeProvider = timeProvider;
        _subscribers = new Lazy<string[]>(() => handlers.Select(h => h.Subscriber).Distinct(StringComparer.Ordinal).ToArray());
        var meter = meterFactory.Create(DeliveryTelemetry.Name);
        _retries = meter.CreateCounter<long>("axentra.pubsub.retries", description: "Deliveries scheduled for another attempt (RETRY or a throwing handler), by subscriber");
        meter.CreateObservableGauge("axentra.queue.depth", () => Observe(q => q.Pending), unit: "{message}",
            description: "Deliveries pending in the local queue, by subscriber");
        meter.CreateObservableGauge("axentra.queue.oldest_age", () => Observe(q => q.OldestAgeSeconds), unit: "s",
            description: "Age of the oldest pending delivery in the local queue, by subscriber (0 when empty)");
        meter.CreateObservableGauge("axentra.queue.dead_lettered", () => Observe(q => q.Dead), unit: "{message}",
            description: "Dead letters held in the local queue, by subscriber (until redriven)");
    }

    public void Retried(string subscriber) => _retries.Add(1, new KeyValuePair<string, object?>("subscriber", subscriber));

    public void DeadLettered(string subscriber, bool dropped) => _deadLetters.DeadLettered(subscriber, dropped);

    private IEnumerable<Measurement<double>> Observe(Func<SubscriberQueue, double> value)
    {
        var snapshot = Snapshot();
        foreach (var subscriber in _subscribers.Value)
        {
            yield return new Measurement<double>(
                value(snapshot.GetValueOrDefault(subscriber)), new KeyValuePair<string, object?>("subscriber", subscriber));
        }
    }

    private Dictionary<string, SubscriberQueue> Snapshot()
    {
        lock (_gate)
        {
            if (_snapshotAt != 0 && Stopwatch.GetElapsedTime(_snapshotAt) < CacheFor)
            {
                return _snapshot;
            }

            var now = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
            try
            {
                _snapshot = _database.Read(connection =>
                {
                    // Pending: the topic's messages past the cursor, plus failed deliveries awaiting a retry. Ids grow
                    // with publish time, so the oldest is the lower of the two first ids; its published_at is one lookup.
                    using var command = connection.CreateCommand();
                    command.CommandText = """
                        SELECT q.subscriber, q.new + q.retrying, q.dead,
                               (SELECT published_at FROM queue_messages WHERE id = MIN(COALESCE(q.first_new, q.first_retry), COALESCE(q.first_retry, q.first_new)))
                        FROM (
                            SELECT c.subscriber,
                                   (SELECT COUNT(*) FROM queue_messages m WHERE m.topic = c.topic AND m.id > c.position) AS new,
                                   (SELECT MIN(m.id) FROM queue_messages m WHERE m.topic = c.topic AND m.id > c.position) AS first_new,
                                   (SELECT COUNT(*) FROM queue_deliveries d WHERE d.subscriber = c.subscriber AND d.state = 0) AS retrying,
                                   (SELECT MIN(d.message_id) FROM queue_deliveries d WHERE d.subscriber = c.subscriber AND d.state = 0) AS first_retry,
                                   (SELECT COUNT(*) FROM queue_deliveries d WHERE d.subscriber = c.subscriber AND d.state = 2) AS dead
                            FROM queue_cursors c) q
                        """;
                    using var reader = command.ExecuteReader();
                    var result = new Dictionary<string, SubscriberQueue>(StringComparer.Ordinal);
                    while (reader.Read())
                    {
                        var age = reader.IsDBNull(3) ? 0 : Math.Max(0, now - reader.GetInt64(3)) / 1000.0;
                        result[reader.GetString(0)] = new SubscriberQueue(reader.GetInt64(1), reader.GetInt64(2), age);
                    }

                    return result;
                });
            }
#pragma warning disable CA1031 // a scrape must not fail because the database is briefly unavailable; the last snapshot stands
            catch (Exception)
#pragma warning restore CA1031
            {
                return _snapshot;
            }

            _snapshotAt = Stopwatch.GetTimestamp();
            return _snapshot;
        }
    }

    private readonly record struct SubscriberQueue(double Pending, double Dead, double OldestAgeSeconds);
}
