using System.Diagnostics.Metrics;
using Axentra.BuildingBlocks.Embedded;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Axentra.BuildingBlocks.Tests.PubSub;

/// <summary>The local queue's gauges, read from the log, the cursors and the failed deliveries.</summary>
public sealed class LocalQueueMetricsTests : IAsyncDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UnixEpoch.AddYears(56));
    private readonly EmbeddedDatabase _database;

    public LocalQueueMetricsTests() => _database = EmbeddedDatabaseFactory.Open(_directory.Path);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        await _database.DisposeAsync();
        await _services.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task Depth_age_and_dead_letters_count_what_each_subscriber_is_still_owed()
    {
        IMessageHandler[] handlers = [new NamedSubscriber("audit"), new NamedSubscriber("catalog")];
        var queue = new LocalPubSub(_database, _clock, handlers);
        for (var i = 0; i < 3; i++)
        {
            await queue.PublishAsync("webhook-events", "{}"u8.ToArray(), Ct);
        }

        // catalog has read all three; its delivery of the first failed for good.
        await _database.WriteAsync(connection =>
        {
            EmbeddedDatabase.Execute(connection, """
                UPDATE queue_cursors SET position = (SELECT MAX(id) FROM queue_messages) WHERE subscriber = 'catalog';
                INSERT INTO queue_deliveries (subscriber, message_id, state, attempts, next_attempt_at, last_error)
                    VALUES ('catalog', (SELECT MIN(id) FROM queue_messages), 2, 20, 0, 'exhausted');
                """);
            return true;
        }, Ct);
        _clock.Advance(TimeSpan.FromSeconds(10));

        var meters = _services.GetRequiredService<IMeterFactory>();
        var gauges = Read(new LocalQueueMetrics(_database, handlers, meters, new DeadLetterMetrics(meters), _clock));

        Assert.Equal(3, gauges[("axentra.queue.depth", "audit")]);
        Assert.Equal(10, gauges[("axentra.queue.oldest_age", "audit")]);
        Assert.Equal(0, gauges[("axentra.queue.dead_lettered", "audit")]);
        Assert.Equal(0, gauges[("axentra.queue.depth", "catalog")]);
        Assert.Equal(0, gauges[("axentra.queue.oldest_age", "catalog")]);
        Assert.Equal(1, gauges[("axentra.queue.dead_lettered", "catalog")]);
    }

    /// <summary>Every gauge of the queue's meter once, by (instrument, subscriber).</summary>
    private static Dictionary<(string, string), double> Read(LocalQueueMetrics metrics)
    {
        GC.KeepAlive(metrics);
        var values = new Dictionary<(string, string), double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == DeliveryTelemetry.Name && instrument.Name.StartsWith("axentra.queue.", StringComparison.Ordinal))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "subscriber")
                {
                    values[(instrument.Name, (string)tag.Value!)] = value;
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return values;
    }
}
