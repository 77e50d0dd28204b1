using Axentra.BuildingBlocks.PubSub;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// Delivers the durable queue's messages to the in-process subscribers: one loop per subscriber, a bounded
/// number of messages in flight, exponential backoff with jitter on RETRY, dead-lettering after the attempt
/// budget or on DROP. A delivery row is removed only after its handler succeeded, so a killed process
/// redelivers whatever was in flight (handlers are idempotent).
/// </summary>
public sealed partial class LocalPubSubDispatcher : BackgroundService
{
    private readonly EmbeddedDatabase _database;
    private readonly LocalPubSub _queue;
    private readonly IReadOnlyList<IMessageHandler> _handlers;
    private readonly IDeadLetterRecorder? _deadLetters;
    private readonly LocalPubSubOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<LocalPubSubDispatcher> _logger;
    private readonly Dictionary<string, SemaphoreSlim> _wakeUps;
    private readonly DeliveryTelemetry? _telemetry;
    private readonly LocalQueueMetrics? _metrics;

    public LocalPubSubDispatcher(
        EmbeddedDatabase database,
        LocalPubSub queue,
        IEnumerable<IMessageHandler> handlers,
        IOptions<LocalPubSubOptions> options,
        TimeProvider timeProvider,
        ILogger<LocalPubSubDispatcher> logger,
        IDeadLetterRecorder? deadLetters = null,
        DeliveryTelemetry? telemetry = null,
        LocalQueueMetrics? metrics = null)
    {
        _telemetry = telemetry;
        _metrics = metrics;
        _database = database;
        _queue = queue;
        _handlers = handlers.ToList();
        _deadLetters = deadLetters;
        _options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger;
        _wakeUps = _handlers.ToDictionary(h => h.Subscriber, _ => new SemaphoreSlim(0), StringComparer.Ordinal);
        _queue.Published += subscriber =>
        {
            if (_wakeUps.TryGetValue(subscriber, out var wakeUp) && wakeUp.CurrentCount == 0)
            {
                wakeUp.Release();
            }
        };
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Deliver)
        {
            LogDeliveriesHeld(string.Join(", ", _handlers.Select(h => h.Subscriber)));
            return Task.CompletedTask;
        }

        return Task.WhenAll(_handlers.Select(h => Task.Run(() => RunSubscriberAsync(h, stoppingToken), stoppingToken)));
    }

    private async Task RunSubscriberAsync(IMessageHandler handler, CancellationToken stoppingToken)
    {
        var wakeUp = _wakeUps[handler.Subscriber];
        while (!stoppingToken.IsCancellationRequested)
        {
            IReadOnlyList<PendingDelivery> due;
            try
            {
                due = FetchDue(handler.Subscriber);
                if (due.Count > 0)
                {
                    await DeliverAsync(handler, due, stoppingToken).ConfigureAwait(false);
                    continue;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // the loop must outlive a failing database round; it retries after a pause
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogDispatchFailed(handler.Subscriber, ex);
            }

            try
            {
                await wakeUp.WaitAsync(NextPollDelay(handler.Subscriber), stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private List<PendingDelivery> FetchDue(string subscriber)
    {
        var now = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        return _database.Read(connection =>
        {
            var command = _database.Prepared(connection, LocalQueueStatements.FetchDue);
            command.Parameters.AddWithValue("$subscriber", subscriber);
            command.Parameters.AddWithValue("$now", now);
            command.Parameters.AddWithValue("$limit", _options.BatchSize);
            using var reader = command.ExecuteReader();
            var list = new List<PendingDelivery>();
            while (reader.Read())
            {
                list.Add(new PendingDelivery(reader.GetInt64(0), reader.GetInt32(1), (byte[])reader.GetValue(2)));
            }

            return list;
        });
    }

    private TimeSpan NextPollDelay(string subscriber)
    {
        var now = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var next = _database.Read(connection =>
        {
            var command = _database.Prepared(connection, LocalQueueStatements.NextDue);
            command.Parameters.AddWithValue("$subscriber", subscriber);
            var value = command.ExecuteScalar();
            return value is long l ? l : (long?)null;
        });
        var delay = next is { } due ? TimeSpan.FromMilliseconds(Math.Max(due - now, 10)) : TimeSpan.FromSeconds(1);
        return delay > TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : delay;
    }

    private async Task DeliverAsync(IMessageHandler handler, IReadOnlyList<PendingDelivery> due, CancellationToken stoppingToken)
    {
        var results = new DeliveryResult[due.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, due.Count),
            new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = stoppingToken },
            async (i, ct) => results[i] = await DeliverOneAsync(handler, due[i], ct).ConfigureAwait(false)).ConfigureAwait(false);

        var now = _timeProvider.GetUtcNow();
        await _database.WriteAsync(connection =>
        {
            foreach (var result in results)
            {
                SqliteCommand command;
                if (result.Outcome == DeliveryOutcome.Success)
                {
                    command = _database.Prepared(connection, LocalQueueStatements.Acknowledge);
                }
                else
                {
                    command = _database.Prepared(connection, LocalQueueStatements.Reschedule);
                    command.Parameters.AddWithValue("$attempts", result.Attempts);
                    command.Parameters.AddWithValue("$next", (now + result.RetryAfter).ToUnixTimeMilliseconds());
                    command.Parameters.AddWithValue("$error", result.Error ?? "");
                    command.Parameters.AddWithValue("$state", result.DeadLettered ? 2 : 0);
                }

                command.Parameters.AddWithValue("$subscriber", handler.Subscriber);
                command.Parameters.AddWithValue("$id", result.MessageId);
                command.ExecuteNonQuery();
            }

            return results.Length;
        }, stoppingToken).ConfigureAwait(false);

        foreach (var (result, delivery) in results.Zip(due))
        {
            if (result.Outcome == DeliveryOutcome.Retry && !result.DeadLettered)
            {
                _metrics?.Retried(handler.Subscriber);
            }

            if (result.DeadLettered)
            {
                _metrics?.DeadLettered(handler.Subscriber, dropped: result.Outcome == DeliveryOutcome.Drop);
                LogDeadLettered(handler.Subscriber, result.MessageId, result.Attempts, result.Error);

                // A handler that answers DROP has recorded its own, more precise reason (IMessageHandler's
                // contract); only a spent retry budget is recorded here.
                if (_deadLetters is not null && result.Outcome != DeliveryOutcome.Drop)
                {
                    await _deadLetters.RecordAsync(handler.Subscriber, delivery.Body, result.Error ?? "dead-lettered", result.Attempts, stoppingToken).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task<DeliveryResult> DeliverOneAsync(IMessageHandler handler, PendingDelivery delivery, CancellationToken ct)
    {
        var attempt = delivery.Attempts + 1;
        DeliveryOutcome outcome;
        string? error = null;
        try
        {
            var context = new DeliveryContext(delivery.MessageId.ToString(System.Globalization.CultureInfo.InvariantCulture), attempt);
            outcome = _telemetry is null
                ? await handler.HandleAsync(delivery.Body, context, ct).ConfigureAwait(false)
                : await _telemetry.DeliverAsync(handler, delivery.Body, context, parentFromMessage: true, ct).ConfigureAwait(false);
            if (outcome != DeliveryOutcome.Success)
            {
                error = outcome == DeliveryOutcome.Drop ? "dropped by the subscriber as poison input" : "the subscriber asked for a retry";
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // a throwing handler is a retry, like a 500 to Dapr
        catch (Exception ex)
#pragma warning restore CA1031
        {
            outcome = DeliveryOutcome.Retry;
            error = $"{ex.GetType().Name}: {ex.Message}";
        }

        return outcome switch
        {
            DeliveryOutcome.Success => new DeliveryResult(delivery.MessageId, outcome, attempt, TimeSpan.Zero, null, false),
            DeliveryOutcome.Drop => new DeliveryResult(delivery.MessageId, outcome, attempt, TimeSpan.Zero, error, true),
            _ => new DeliveryResult(delivery.MessageId, outcome, attempt, _options.BackoffFor(attempt, Random.Shared.NextDouble()), error, attempt >= _options.MaxAttempts),
        };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Local queue deliveries are held (Standalone:Queue:Deliver=false): webhooks are queued, nothing is delivered to {Subscribers} until a restart with deliveries on")]
    private partial void LogDeliveriesHeld(string subscribers);

    [LoggerMessage(Level = LogLevel.Error, Message = "Local queue dispatch for {Subscriber} failed; retrying")]
    private partial void LogDispatchFailed(string subscriber, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} dead-lettered for {Subscriber} after {Attempts} attempts: {Reason}")]
    private partial void LogDeadLettered(string subscriber, long messageId, int attempts, string? reason);

    private sealed record PendingDelivery(long MessageId, int Attempts, byte[] Body);

    private sealed record DeliveryResult(long MessageId, DeliveryOutcome Outcome, int Attempts, TimeSpan RetryAfter, string? Error, bool DeadLettered);
}
