using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.State;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// Delivers the durable queue's messages to the in-process subscribers: one loop per subscriber, a bounded
/// number of messages in flight, exponential backoff with jitter on RETRY, dead-lettering after the attempt
/// budget or on DROP.
/// </summary>
/// <remarks>
/// Each round takes the subscriber's due retries and the next messages of its topic past its cursor, delivers
/// them, and then, in one write, gives every failed delivery a row of its own (retry or dead letter), moves the
/// cursor past the round's messages and deletes the messages every subscriber of the topic is past. A killed
/// process therefore redelivers the whole round that was in flight (handlers are idempotent).
/// </remarks>
public sealed partial class LocalPubSubDispatcher : BackgroundService
{
    private readonly EmbeddedDatabase _database;
    private readonly LocalPubSub _queue;
    private readonly IReadOnlyList<IMessageHandler> _handlers;
    private readonly IDeadLetterRecorder? _deadLetters;
    private readonly SqliteStateStore? _state;
    private readonly LocalPubSubOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<LocalPubSubDispatcher> _logger;
    private readonly Dictionary<string, SemaphoreSlim> _wakeUps;
    private readonly Dictionary<string, Cursor> _cursors;
    private readonly Dictionary<string, Settlement> _settlements;
    private readonly Dictionary<string, int> _topicSubscribers;
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
        LocalQueueMetrics? metrics = null,
        SqliteStateStore? state = null)
    {
        _state = state;
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
        _cursors = _handlers.ToDictionary(h => h.Subscriber, h => new Cursor(h.Subscriber, h.Topic), StringComparer.Ordinal);
        _settlements = _handlers.Select(h => h.Topic).Distinct(StringComparer.Ordinal).ToDictionary(t => t, t => new Settlement(), StringComparer.Ordinal);
        _topicSubscribers = _handlers.GroupBy(h => h.Topic, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
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
        var cursor = _cursors[handler.Subscriber];
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!cursor.Loaded)
                {
                    await LoadAsync(cursor, stoppingToken).ConfigureAwait(false);
                }

                var round = Fetch(cursor);
                if (round.Count > 0)
                {
                    await DeliverAsync(handler, cursor, round, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                if (_database.QueueBodies.HasReleasable)
                {
                    // Idle, with an older body segment still on disk: rounds release them as they go, but one that
                    // was still open elsewhere at the last round's attempt waits for the next.
                    await ReleaseSegmentsAsync(handler.Subscriber, stoppingToken).ConfigureAwait(false);
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

    /// <summary>The subscriber's cursor, created at the end of the log when it has none.</summary>
    private async Task LoadAsync(Cursor cursor, CancellationToken stoppingToken)
    {
        var position = await _database.WriteAsync(connection =>
        {
            _queue.EnsureCursors(connection);
            var command = _database.Prepared(connection, LocalQueueStatements.ReadCursor);
            command.Parameters.AddWithValue("$subscriber", cursor.Subscriber);
            return (long)command.ExecuteScalar()!;
        }, stoppingToken).ConfigureAwait(false);
        cursor.Load(position);
    }

    /// <summary>A round: the subscriber's due retries, then its topic's next messages past the cursor.</summary>
    private List<PendingDelivery> Fetch(Cursor cursor)
    {
        var now = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var round = _database.Read(connection =>
        {
            var list = new List<PendingDelivery>();
            var due = _database.Prepared(connection, LocalQueueStatements.FetchDue);
            due.Parameters.AddWithValue("$subscriber", cursor.Subscriber);
            due.Parameters.AddWithValue("$now", now);
            due.Parameters.AddWithValue("$limit", _options.BatchSize);
            using (var reader = due.ExecuteReader())
            {
                while (reader.Read())
                {
                    list.Add(new PendingDelivery(reader.GetInt64(0), reader.GetInt32(1), _queue.BodyOf(reader, 2), New: false));
                }
            }

            if (list.Count < _options.BatchSize)
            {
                var next = _database.Prepared(connection, LocalQueueStatements.FetchNew);
                next.Parameters.AddWithValue("$topic", cursor.Topic);
                next.Parameters.AddWithValue("$after", cursor.Position);
                next.Parameters.AddWithValue("$limit", _options.BatchSize - list.Count);
                using var reader = next.ExecuteReader();
                while (reader.Read())
                {
                    list.Add(new PendingDelivery(reader.GetInt64(0), 0, _queue.BodyOf(reader, 1), New: true));
                }
            }

            return list;
        });

        // A body its segment did not have may have moved meanwhile: another subscriber dead-lettered the message,
        // copied its body into the row and released the segment after this read's snapshot was taken. Only a body
        // still missing on a fresh read is lost.
        for (var i = 0; i < round.Count; i++)
        {
            if (round[i].Body is null)
            {
                round[i] = round[i] with { Body = ReadBody(round[i].MessageId) };
            }
        }

        return round;
    }

    private byte[]? ReadBody(long messageId) => _database.Read(connection =>
    {
        var command = _database.Prepared(connection, LocalQueueStatements.ReadBody);
        command.Parameters.AddWithValue("$id", messageId);
        using var reader = command.ExecuteReader();
        return reader.Read() ? _queue.BodyOf(reader, 0) : null;
    });

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

    private async Task DeliverAsync(IMessageHandler handler, Cursor cursor, IReadOnlyList<PendingDelivery> round, CancellationToken stoppingToken)
    {
        var results = new DeliveryResult[round.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, round.Count),
            new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = stoppingToken },
            async (i, ct) => results[i] = await DeliverOneAsync(handler, round[i], ct).ConfigureAwait(false)).ConfigureAwait(false);

        // New messages come in id order, after the retries: the last one is the cursor's next position.
        long? through = round[^1].New ? round[^1].MessageId : null;
        var settlement = _settlements[cursor.Topic];
        var now = _timeProvider.GetUtcNow();

        // A spent retry budget is recorded on the event in the round's own commit (the registry shares the database):
        // committed after it, a crash in between left a dead letter whose event did not show it. A handler that
        // answers DROP has recorded its own, more precise reason (IMessageHandler's contract).
        var records = new StateWrite?[results.Length];
        for (var i = 0; i < results.Length; i++)
        {
            if (_state is not null && results[i].DeadLettered && results[i].Outcome != DeliveryOutcome.Drop && round[i].Body is { } deadBody)
            {
                records[i] = _deadLetters?.RecordOf(handler.Subscriber, deadBody, results[i].Error ?? "dead-lettered", results[i].Attempts);
            }
        }

        var (settled, oldestSegment) = await _database.WriteAsync(connection =>
        {
            if (through is { } position)
            {
                var move = _database.Prepared(connection, LocalQueueStatements.MoveCursor);
                move.Parameters.AddWithValue("$subscriber", handler.Subscriber);
                move.Parameters.AddWithValue("$position", position);
                move.ExecuteNonQuery();
            }

            var settled = Settled(connection, cursor.Topic);
            for (var i = 0; i < results.Length; i++)
            {
                var result = results[i];
                SqliteCommand command;
                if (result.Outcome == DeliveryOutcome.Success)
                {
                    if (round[i].New)
                    {
                        continue; // the cursor has moved past it
                    }

                    command = _database.Prepared(connection, LocalQueueStatements.Acknowledge);
                    command.Parameters.AddWithValue("$settled", settled);
                }
                else
                {
                    if (result.DeadLettered && round[i].Body is { } body)
                    {
                        var keep = _database.Prepared(connection, LocalQueueStatements.KeepBody);
                        keep.Parameters.AddWithValue("$body", body);
                        keep.Parameters.AddWithValue("$id", result.MessageId);
                        keep.ExecuteNonQuery();
                    }
                    else if (result.DeadLettered)
                    {
                        var lose = _database.Prepared(connection, LocalQueueStatements.LoseBody);
                        lose.Parameters.AddWithValue("$id", result.MessageId);
                        lose.ExecuteNonQuery();
                    }

                    if (records[i] is { } record)
                    {
                        _state!.Save(connection, record);
                    }

                    command = _database.Prepared(connection, LocalQueueStatements.RecordFailure);
                    command.Parameters.AddWithValue("$attempts", result.Attempts);
                    command.Parameters.AddWithValue("$next", (now + result.RetryAfter).ToUnixTimeMilliseconds());
                    command.Parameters.AddWithValue("$error", result.Error ?? "");
                    command.Parameters.AddWithValue("$state", result.DeadLettered ? 2 : 0);
                }

                command.Parameters.AddWithValue("$subscriber", handler.Subscriber);
                command.Parameters.AddWithValue("$id", result.MessageId);
                command.ExecuteNonQuery();
            }

            // A lower bound read before an earlier round's commit was noted only means a longer range to look at.
            var from = settlement.DeletedThrough;
            if (settled > from)
            {
                var delete = _database.Prepared(connection, LocalQueueStatements.DeleteSettled);
                delete.Parameters.AddWithValue("$topic", cursor.Topic);
                delete.Parameters.AddWithValue("$from", from);
                delete.Parameters.AddWithValue("$to", settled);
                delete.ExecuteNonQuery();
            }

            return (settled, OldestSegment(connection));
        }, stoppingToken).ConfigureAwait(false);

        if (through is { } committed)
        {
            cursor.MoveTo(committed);
        }

        settlement.DeletedTo(settled);

        foreach (var (result, delivery) in results.Zip(round))
        {
            if (result.Outcome == DeliveryOutcome.Retry && !result.DeadLettered)
            {
                _metrics?.Retried(handler.Subscriber);
            }

            if (result.DeadLettered)
            {
                _metrics?.DeadLettered(handler.Subscriber, dropped: result.Outcome == DeliveryOutcome.Drop);
                var facts = delivery.Body is { } deadBody ? MessageFacts.Peek(deadBody) : default;
                using (_logger.BeginScope(new EventLogScope(facts.EventId, facts.StoreId, facts.EventType, handler.Subscriber)))
                using (facts.TryGetParent(out var parent)
                    ? _logger.BeginScope(new Dictionary<string, object?> { ["TraceId"] = parent.TraceId.ToHexString(), ["ParentId"] = parent.SpanId.ToHexString() })
                    : null)
                {
                    LogDeadLettered(handler.Subscriber, result.MessageId, result.Attempts, result.Error);
                }

                // Without the state store's database at hand (a queue on its own), recorded after the commit instead.
                if (_deadLetters is not null && _state is null && result.Outcome != DeliveryOutcome.Drop && delivery.Body is not null)
                {
                    await _deadLetters.RecordAsync(handler.Subscriber, delivery.Body, result.Error ?? "dead-lettered", result.Attempts, stoppingToken).ConfigureAwait(false);
                }
            }
        }

        ReleaseSegments(oldestSegment, handler.Subscriber); // last: the round is done whatever happens there
    }

    private async Task ReleaseSegmentsAsync(string subscriber, CancellationToken stoppingToken) =>
        ReleaseSegments(await _database.WriteAsync(OldestSegment, stoppingToken).ConfigureAwait(false), subscriber);

    /// <summary>Deletes the body segments before <paramref name="oldest"/> (<see cref="OldestSegment"/>); housekeeping, so a failure is only logged.</summary>
    private void ReleaseSegments(long? oldest, string subscriber)
    {
        if (oldest is null)
        {
            return;
        }

        try
        {
            _database.QueueBodies.ReleaseBefore(oldest.Value);
        }
#pragma warning disable CA1031 // a segment kept for now is deleted by a later round
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogDispatchFailed(subscriber, ex);
        }
    }

    /// <summary>Why a message whose body segment lost it is dead-lettered without a delivery.</summary>
    private const string LostBody = "the message's body is missing or damaged in its body segment (a power loss before it reached the disk?)";

    /// <summary>
    /// The oldest body segment still needed, read inside a write (so no row committed later refers to an older one),
    /// when an older segment than the one written to may still be kept; else null.
    /// </summary>
    private long? OldestSegment(SqliteConnection connection)
    {
        var bodies = _database.QueueBodies;
        if (!bodies.HasReleasable)
        {
            return null;
        }

        var current = bodies.CurrentSegment;
        var oldest = _database.Prepared(connection, LocalQueueStatements.OldestSegment).ExecuteScalar();
        return oldest is long segment ? Math.Min(segment, current) : current;
    }

    /// <summary>
    /// The id every subscriber of <paramref name="topic"/> in this process has moved past, read inside the write (so
    /// it counts the cursor this round just moved, and every round committed before it). A cursor left by a
    /// subscriber this process no longer has does not hold the topic's messages back.
    /// </summary>
    private long Settled(SqliteConnection connection, string topic)
    {
        var command = _database.Prepared(connection, LocalQueueStatements.ReadCursors);
        command.Parameters.AddWithValue("$topic", topic);
        using var reader = command.ExecuteReader();
        long? settled = null;
        var seen = 0;
        while (reader.Read())
        {
            if (_cursors.ContainsKey(reader.GetString(0)))
            {
                settled = Math.Min(settled ?? long.MaxValue, reader.GetInt64(1));
                seen++;
            }
        }

        // A subscriber of the topic without a cursor yet has not read anything: nothing is settled.
        return seen == _topicSubscribers[topic] ? settled ?? 0 : 0;
    }

    private async Task<DeliveryResult> DeliverOneAsync(IMessageHandler handler, PendingDelivery delivery, CancellationToken ct)
    {
        var attempt = delivery.Attempts + 1;
        if (delivery.Body is null)
        {
            return new DeliveryResult(delivery.MessageId, DeliveryOutcome.Drop, attempt, TimeSpan.Zero, LostBody, true);
        }

        DeliveryOutcome outcome;
        string? error = null;
        var context = new DeliveryContext(delivery.MessageId.ToString(System.Globalization.CultureInfo.InvariantCulture), attempt);
        try
        {
            outcome = _telemetry is null
                ? await handler.HandleAsync(delivery.Body, context, ct).ConfigureAwait(false)
                : await _telemetry.DeliverAsync(handler, delivery.Body, context, parentFromMessage: true, ct).ConfigureAwait(false);
            if (outcome != DeliveryOutcome.Success)
            {
                error = outcome == DeliveryOutcome.Drop
                    ? context.DropReason is { } dropped ? $"dropped by the subscriber as poison input: {dropped}" : "dropped by the subscriber as poison input"
                    : context.RetryReason ?? "the subscriber asked for a retry";
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

    /// <summary>
    /// A message of a round; <c>New</c>: past the cursor, not a due retry of a failed delivery. <c>Body</c> is null
    /// when its body segment has lost it (<see cref="QueueBodyLog.Read"/>).
    /// </summary>
    private sealed record PendingDelivery(long MessageId, int Attempts, byte[]? Body, bool New);

    private sealed record DeliveryResult(long MessageId, DeliveryOutcome Outcome, int Attempts, TimeSpan RetryAfter, string? Error, bool DeadLettered);

    /// <summary>A subscriber's committed position in its topic's log; written by its own loop only.</summary>
    private sealed class Cursor(string subscriber, string topic)
    {
        private long _position;

        public string Subscriber { get; } = subscriber;

        public string Topic { get; } = topic;

        public bool Loaded { get; private set; }

        public long Position => Volatile.Read(ref _position);

        public void Load(long position)
        {
            Volatile.Write(ref _position, position);
            Loaded = true;
        }

        public void MoveTo(long position) => Volatile.Write(ref _position, position);
    }

    /// <summary>How far a topic's settled messages are deleted; only ever moves forward.</summary>
    private sealed class Settlement
    {
        private long _deletedThrough;

        public long DeletedThrough => Volatile.Read(ref _deletedThrough);

        public void DeletedTo(long position)
        {
            var current = Volatile.Read(ref _deletedThrough);
            while (position > current)
            {
                var seen = Interlocked.CompareExchange(ref _deletedThrough, position, current);
                if (seen == current)
                {
                    return;
                }

                current = seen;
            }
        }
    }
}
