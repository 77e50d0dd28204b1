using System.Collections.Concurrent;
using System.Text;
using Axentra.BuildingBlocks.Embedded;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.State;
using Axentra.BuildingBlocks.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Axentra.BuildingBlocks.Tests.PubSub;

/// <summary>The standalone host's durable queue: LocalPubSub (publish) and LocalPubSubDispatcher (deliver).</summary>
public sealed class LocalPubSubTests : IAsyncDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly List<IAsyncDisposable> _running = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        for (var i = _running.Count - 1; i >= 0; i--)
        {
            await _running[i].DisposeAsync();
        }

        _directory.Dispose();
    }

    [Fact]
    public async Task Every_subscriber_of_a_topic_gets_every_message_and_other_topics_get_none()
    {
        var audit = new RecordingHandler("audit", "webhook-events");
        var catalog = new RecordingHandler("catalog", "webhook-events");
        var kb = new RecordingHandler("kb", "axentra-kb-refresh");
        var (queue, _) = await StartAsync([audit, catalog, kb]);

        for (var i = 0; i < 3; i++)
        {
            await queue.PublishAsync("webhook-events", Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"), Ct);
        }

        await Eventually.TrueAsync(() => audit.Successes.Count == 3 && catalog.Successes.Count == 3, "both subscribers got all three");
        Assert.Equal(["{\"n\":0}", "{\"n\":1}", "{\"n\":2}"], audit.Successes.Order(StringComparer.Ordinal));
        Assert.Equal(audit.Successes.Order(StringComparer.Ordinal), catalog.Successes.Order(StringComparer.Ordinal));
        Assert.Empty(kb.Attempts);
    }

    [Fact]
    public async Task A_retry_is_redelivered_only_after_its_backoff_has_passed()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(56));
        var handler = new RecordingHandler("audit", "webhook-events", attempt => attempt == 1 ? DeliveryOutcome.Retry : DeliveryOutcome.Success);
        var (queue, _) = await StartAsync([handler], clock, new LocalPubSubOptions { InitialBackoff = TimeSpan.FromSeconds(30), MaxBackoff = TimeSpan.FromMinutes(1) });

        await queue.PublishAsync("webhook-events", "{}"u8.ToArray(), Ct);
        await Eventually.TrueAsync(() => handler.Attempts.Count == 1, "the first attempt ran");

        await Task.Delay(300, Ct); // the dispatcher polls meanwhile; the clock has not reached the backoff
        Assert.Single(handler.Attempts);

        clock.Advance(TimeSpan.FromSeconds(31));
        await Eventually.TrueAsync(() => handler.Successes.Count == 1, "the retry was delivered");
        Assert.Equal([1, 2], handler.Attempts.Select(a => a.Attempt));
    }

    [Fact]
    public async Task A_throwing_subscriber_is_retried_like_a_retry()
    {
        var handler = new RecordingHandler("audit", "webhook-events", attempt => attempt < 3 ? throw new IOException("disk full") : DeliveryOutcome.Success);
        var (queue, _) = await StartAsync([handler], options: FastRetries(maxAttempts: 5));

        await queue.PublishAsync("webhook-events", "{}"u8.ToArray(), Ct);

        await Eventually.TrueAsync(() => handler.Successes.Count == 1, "the third attempt succeeded");
        Assert.Equal([1, 2, 3], handler.Attempts.Select(a => a.Attempt));
    }

    [Fact]
    public async Task A_message_is_dead_lettered_after_the_attempt_budget_and_not_delivered_again()
    {
        var handler = new RecordingHandler("catalog", "webhook-events", _ => DeliveryOutcome.Retry);
        var deadLetters = new RecordingDeadLetters();
        var (queue, _) = await StartAsync([handler], options: FastRetries(maxAttempts: 3), deadLetters: deadLetters);

        await queue.PublishAsync("webhook-events", "{\"poison\":false}"u8.ToArray(), Ct);

        await Eventually.TrueAsync(() => !deadLetters.Recorded.IsEmpty, "the dead letter was recorded");
        var dead = Assert.Single(deadLetters.Recorded);
        Assert.Equal(("catalog", "{\"poison\":false}", 3), (dead.Subscriber, dead.Message, dead.Attempts));
        Assert.Equal("the subscriber asked for a retry", dead.Reason);
        await Task.Delay(200, Ct);
        Assert.Equal(3, handler.Attempts.Count);
    }

    [Fact]
    public async Task A_dead_letters_registry_stage_commits_with_the_dead_letter_itself()
    {
        // The registry shares the queue's database: the event's dead_lettered stage is written in the round's own
        // commit, so no crash can leave a dead letter whose event does not show it. A recorder whose after-the-commit
        // path fails proves the stage does not come from there.
        var handler = new RecordingHandler("catalog", "webhook-events", _ => DeliveryOutcome.Retry);
        var database = EmbeddedDatabaseFactory.Open(_directory.Path);
        var state = new SqliteStateStore(database, TimeProvider.System);
        var recorder = new RecordOnlyInTheCommit(new Registry.EventRegistry(state, TimeProvider.System));
        var queue = new LocalPubSub(database, TimeProvider.System, [handler]);
        var dispatcher = new LocalPubSubDispatcher(database, queue, [handler], Options.Create(FastRetries(maxAttempts: 2)), TimeProvider.System,
            NullLogger<LocalPubSubDispatcher>.Instance, recorder, state: state);
        await dispatcher.StartAsync(Ct);
        _running.Add(new Running(dispatcher, database));
        var envelope = Envelope("0123456789abcdef-1765297638");

        await queue.PublishAsync("webhook-events", System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(envelope, Contracts.ContractsJsonContext.Default.WebhookEnvelope), Ct);

        var key = Contracts.RegistryKeys.Stage(envelope.EventId, Registry.EventRegistry.DeadLetterStage("catalog"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        BuildingBlocks.State.StateEntry? entry;
        while ((entry = await state.GetAsync(key, Ct)) is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
        }

        Assert.True(entry is not null, "the dead_lettered stage was committed");
        var stage = System.Text.Json.JsonSerializer.Deserialize(entry!.Value.Span, Contracts.ContractsJsonContext.Default.StageRecord)!;
        Assert.Equal((2, "the subscriber asked for a retry"), (stage.Attempts, stage.Reason));
        Assert.Equal(0, recorder.AfterTheCommit);
    }

    [Fact]
    public async Task A_dead_letter_keeps_the_reason_the_subscriber_gave_for_its_last_retry()
    {
        var handler = new ReasonedHandler(DeliveryOutcome.Retry);
        var deadLetters = new RecordingDeadLetters();
        var (queue, _) = await StartAsync([handler], options: FastRetries(maxAttempts: 2), deadLetters: deadLetters);

        await queue.PublishAsync("webhook-events", "{}"u8.ToArray(), Ct);

        await Eventually.TrueAsync(() => !deadLetters.Recorded.IsEmpty, "the dead letter was recorded");
        Assert.Equal("backend unavailable: bucket down (attempt 2)", Assert.Single(deadLetters.Recorded).Reason);
    }

    [Fact]
    public async Task A_dropped_message_is_dead_lettered_at_once_keeping_the_handlers_own_reason()
    {
        var handler = new ReasonedHandler(DeliveryOutcome.Drop);
        var deadLetters = new RecordingDeadLetters();
        var (queue, _) = await StartAsync([handler], options: FastRetries(maxAttempts: 10), deadLetters: deadLetters);

        await queue.PublishAsync("webhook-events", "{\"poison\":true}"u8.ToArray(), Ct);

        await using var inspector = EmbeddedDatabaseFactory.Open(_directory.Path);
        var letters = new LocalDeadLetters(inspector, queue, TimeProvider.System);
        await Eventually.TrueAsync(() => letters.List("catalog", 10).Count == 1, "the drop is a dead letter");
        var dead = Assert.Single(letters.List("catalog", 10));
        Assert.Equal(1, dead.Attempts);
        // The listed reason is the handler's own, as in the distributed list: not only "dropped".
        Assert.Equal("dropped by the subscriber as poison input: conflict: payload object 'k' already holds different bytes; it was kept", dead.Reason);
        await Task.Delay(200, Ct);
        Assert.Equal(1, handler.Calls);

        // A DROP is recorded by the handler itself (with the precise reason); the dispatcher must not overwrite it.
        Assert.Empty(deadLetters.Recorded);
    }

    [Fact]
    public async Task A_resolved_dead_letter_is_forgotten_with_its_message_and_its_event_records_why()
    {
        var handler = new RecordingHandler("catalog", "webhook-events", _ => DeliveryOutcome.Retry);
        var (queue, _) = await StartAsync([handler], options: FastRetries(maxAttempts: 1));
        var envelope = Envelope("fedcba9876543210-1765297638");
        await queue.PublishAsync("webhook-events", System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(envelope, Contracts.ContractsJsonContext.Default.WebhookEnvelope), Ct);

        await using var inspector = EmbeddedDatabaseFactory.Open(_directory.Path);
        var state = new SqliteStateStore(inspector, TimeProvider.System);
        var letters = new LocalDeadLetters(inspector, queue, TimeProvider.System, new Registry.EventRegistry(state, TimeProvider.System), state);
        await Eventually.TrueAsync(() => letters.List(null, 10).Count == 1, "dead after one attempt");
        var messageId = letters.List(null, 10)[0].MessageId;

        Assert.False(await letters.ResolveAsync("audit", messageId, "not audit's", Ct));
        Assert.True(await letters.ResolveAsync("catalog", messageId, "poison input, fixed upstream", Ct));

        Assert.Empty(letters.List(null, 10));
        var stage = await state.GetJsonAsync(
            Contracts.RegistryKeys.Stage(envelope.EventId, Registry.EventRegistry.ResolvedStage("catalog")), Contracts.ContractsJsonContext.Default.StageRecord, Ct);
        Assert.Equal("poison input, fixed upstream", stage?.Value.Reason);
        Assert.Equal(0L, inspector.Read(c =>
        {
            using var count = c.CreateCommand();
            count.CommandText = "SELECT COUNT(*) FROM queue_messages";
            return (long)count.ExecuteScalar()!;
        }));
        Assert.False(await letters.ResolveAsync("catalog", messageId, "again", Ct));
        await Task.Delay(200, Ct);
        Assert.Single(handler.Attempts); // resolved, not redelivered
    }

    [Fact]
    public async Task A_dead_letter_redriven_is_delivered_again_with_a_fresh_budget()
    {
        var fail = true;
        var handler = new RecordingHandler("audit", "webhook-events", _ => Volatile.Read(ref fail) ? DeliveryOutcome.Retry : DeliveryOutcome.Success);
        var (queue, _) = await StartAsync([handler], options: FastRetries(maxAttempts: 2));
        await queue.PublishAsync("webhook-events", "{\"n\":1}"u8.ToArray(), Ct);

        await using var inspector = EmbeddedDatabaseFactory.Open(_directory.Path);
        var letters = new LocalDeadLetters(inspector, queue, TimeProvider.System);
        await Eventually.TrueAsync(() => letters.List(null, 10).Count == 1, "dead after two attempts");
        Assert.Equal(2, letters.List(null, 10)[0].Attempts);

        Volatile.Write(ref fail, false);
        Assert.Equal(new DeadLetterRedrive(1, null), await letters.RedriveAsync("audit", null, Ct));
        await Eventually.TrueAsync(() => handler.Attempts.Count == 3, "redelivered once more");
        await Eventually.TrueAsync(() => letters.List(null, 10).Count == 0, "no dead letters left");
    }

    [Fact]
    public async Task Messages_published_before_a_restart_are_delivered_after_it()
    {
        // First run: publish with no dispatcher running (the process dies before delivering anything).
        var database = EmbeddedDatabaseFactory.Open(_directory.Path);
        var before = new RecordingHandler("audit", "webhook-events");
        var queue = new LocalPubSub(database, TimeProvider.System, [before]);
        for (var i = 0; i < 5; i++)
        {
            await queue.PublishAsync("webhook-events", Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"), Ct);
        }

        await database.DisposeAsync();

        // Second run on the same data directory.
        var after = new RecordingHandler("audit", "webhook-events");
        await StartAsync([after]);

        await Eventually.TrueAsync(() => after.Successes.Count == 5, "every message published before the restart arrived");
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"{{\"n\":{i}}}"), after.Successes.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Held_deliveries_stay_queued_until_a_restart_with_deliveries_on()
    {
        var held = new RecordingHandler("audit", "webhook-events");
        var (queue, stop) = await StartAsync([held], options: new LocalPubSubOptions { Deliver = false });
        for (var i = 0; i < 3; i++)
        {
            await queue.PublishAsync("webhook-events", Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"), Ct);
        }

        await Task.Delay(300, Ct); // a dispatcher would have delivered by now
        Assert.Empty(held.Attempts);
        await stop.DisposeAsync();

        var released = new RecordingHandler("audit", "webhook-events");
        await StartAsync([released]);
        await Eventually.TrueAsync(() => released.Successes.Count == 3, "the held messages were delivered after the restart");
    }

    [Fact]
    public async Task A_delivery_in_flight_when_the_process_stops_is_delivered_again_after_a_restart()
    {
        var first = new HangingHandler("audit", "webhook-events");
        var (queue, stop) = await StartAsync([first]);
        await queue.PublishAsync("webhook-events", "{\"in\":\"flight\"}"u8.ToArray(), Ct);
        await first.Started.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await stop.DisposeAsync(); // stops the dispatcher and closes the database mid-delivery

        var second = new RecordingHandler("audit", "webhook-events");
        await StartAsync([second]);

        await Eventually.TrueAsync(() => second.Successes.Count == 1, "the in-flight message was redelivered");
    }

    [Fact]
    public async Task A_message_is_kept_until_every_subscriber_is_past_it_and_no_failed_delivery_holds_it()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(56));
        var audit = new RecordingHandler("audit", "webhook-events");
        var catalog = new RecordingHandler("catalog", "webhook-events", attempt => attempt == 1 ? DeliveryOutcome.Retry : DeliveryOutcome.Success);
        var (queue, _) = await StartAsync([audit, catalog], clock, new LocalPubSubOptions { InitialBackoff = TimeSpan.FromSeconds(30) });

        await queue.PublishAsync("webhook-events", "{\"n\":1}"u8.ToArray(), Ct);
        await Eventually.TrueAsync(() => audit.Successes.Count == 1 && Count("queue_deliveries WHERE subscriber = 'catalog'") == 1, "audit done, catalog's retry recorded");

        // Both cursors are past the message, but catalog's failed delivery still holds it.
        Assert.Equal(2L, Count("queue_cursors WHERE position = (SELECT MAX(id) FROM queue_messages)"));
        Assert.Equal(1L, Count("queue_messages"));

        clock.Advance(TimeSpan.FromMinutes(1));
        await Eventually.TrueAsync(() => catalog.Successes.Count == 1, "catalog's retry succeeded");
        await Eventually.TrueAsync(() => Count("queue_messages") == 0 && Count("queue_deliveries") == 0, "nothing is left in the queue");
        Assert.Single(audit.Attempts);
    }

    [Fact]
    public async Task Messages_nobody_failed_are_deleted_once_the_slower_subscriber_is_past_them()
    {
        var audit = new RecordingHandler("audit", "webhook-events");
        var slow = new GatedHandler("catalog", "webhook-events");
        var (queue, _) = await StartAsync([audit, slow]);

        for (var i = 0; i < 4; i++)
        {
            await queue.PublishAsync("webhook-events", Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"), Ct);
        }

        await Eventually.TrueAsync(() => audit.Successes.Count == 4, "audit got all four");
        Assert.Equal(4L, Count("queue_messages")); // catalog is not past them yet

        slow.Open();
        await Eventually.TrueAsync(() => Count("queue_messages") == 0, "deleted once catalog is past them");
        Assert.Equal(0L, Count("queue_deliveries"));
    }

    [Fact]
    public async Task A_subscriber_seen_for_the_first_time_is_owed_only_what_is_published_from_then_on()
    {
        var database = EmbeddedDatabaseFactory.Open(_directory.Path);
        var queue = new LocalPubSub(database, TimeProvider.System, [new RecordingHandler("audit", "webhook-events")]);
        await queue.PublishAsync("webhook-events", "{\"n\":0}"u8.ToArray(), Ct);
        await database.DisposeAsync();

        var audit = new RecordingHandler("audit", "webhook-events");
        var added = new RecordingHandler("catalog", "webhook-events");
        var (restarted, _) = await StartAsync([audit, added]);
        await restarted.PublishAsync("webhook-events", "{\"n\":1}"u8.ToArray(), Ct);

        await Eventually.TrueAsync(() => audit.Successes.Count == 2 && added.Successes.Count == 1, "audit got both, catalog the second");
        Assert.Equal(["{\"n\":1}"], added.Successes);
        await Eventually.TrueAsync(() => Count("queue_messages") == 0, "both settled");
    }

    [Fact]
    public async Task Pending_deliveries_of_a_database_from_before_the_cursors_are_delivered_once_each()
    {
        // The earlier layout: no cursors; one pending delivery row per (subscriber, message) still owed.
        var path = Path.Combine(_directory.Path, "axentra.db");
        using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            old.Open();
            EmbeddedDatabase.Execute(old, """
                CREATE TABLE queue_messages (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, body BLOB NOT NULL, published_at INTEGER NOT NULL);
                CREATE TABLE queue_deliveries (subscriber TEXT NOT NULL, message_id INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0,
                    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, last_error TEXT NULL,
                    PRIMARY KEY (subscriber, message_id)) WITHOUT ROWID;
                INSERT INTO queue_messages (topic, body, published_at) VALUES ('webhook-events', CAST('{"n":1}' AS BLOB), 0), ('webhook-events', CAST('{"n":2}' AS BLOB), 0);
                INSERT INTO queue_deliveries (subscriber, message_id, next_attempt_at) VALUES ('audit', 1, 0), ('catalog', 1, 0), ('catalog', 2, 0);
                """);
        }

        var audit = new RecordingHandler("audit", "webhook-events");
        var catalog = new RecordingHandler("catalog", "webhook-events");
        var (queue, _) = await StartAsync([audit, catalog]);
        await queue.PublishAsync("webhook-events", "{\"n\":3}"u8.ToArray(), Ct);

        await Eventually.TrueAsync(() => audit.Successes.Count == 2 && catalog.Successes.Count == 3, "every owed delivery arrived");
        await Eventually.TrueAsync(() => Count("queue_messages") == 0 && Count("queue_deliveries") == 0, "nothing is left in the queue");
        Assert.Equal(["{\"n\":1}", "{\"n\":3}"], audit.Successes.Order(StringComparer.Ordinal));
        Assert.Equal(["{\"n\":1}", "{\"n\":2}", "{\"n\":3}"], catalog.Successes.Order(StringComparer.Ordinal));
        Assert.Equal(5, audit.Attempts.Count + catalog.Attempts.Count);
    }

    [Fact]
    public async Task Bodies_are_kept_in_segments_beside_the_database_until_no_message_needs_them()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(56));
        var audit = new RecordingHandler("audit", "webhook-events");
        var catalog = new RecordingHandler("catalog", "webhook-events", attempt => attempt == 1 ? DeliveryOutcome.Retry : DeliveryOutcome.Success);
        var (queue, _) = await StartAsync([audit, catalog], clock, new LocalPubSubOptions { InitialBackoff = TimeSpan.FromSeconds(30) }, queueSegmentBytes: 256);

        var sent = Enumerable.Range(0, 12).Select(i => $"{{\"n\":{i},\"text\":\"a body of about sixty bytes, five to a segment\"}}").ToList();
        foreach (var body in sent)
        {
            await queue.PublishAsync("webhook-events", Encoding.UTF8.GetBytes(body), Ct);
        }

        // The rows hold where the bodies are, not the bodies.
        Assert.Equal(12L, Count("queue_messages WHERE length(body) = 0 AND body_segment IS NOT NULL"));
        await Eventually.TrueAsync(() => audit.Successes.Count == 12 && Count("queue_deliveries WHERE subscriber = 'catalog'") == 12, "audit done, catalog's retries recorded");
        Assert.Equal(sent.Order(StringComparer.Ordinal), audit.Successes.Order(StringComparer.Ordinal));
        var held = SegmentFiles();
        Assert.True(held.Length >= 4, $"catalog's retries hold every segment ({held.Length})");

        clock.Advance(TimeSpan.FromMinutes(1));
        await Eventually.TrueAsync(() => catalog.Successes.Count == 12, "catalog's retries succeeded");
        await Eventually.TrueAsync(() => Count("queue_messages") == 0 && SegmentFiles().Length == 1, "every segment but the one written to is deleted");
        Assert.Equal(sent.Order(StringComparer.Ordinal), catalog.Successes.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_dead_letters_body_moves_into_its_row_so_its_segment_can_go_and_a_redrive_delivers_it()
    {
        var handler = new PoisonHandler();
        var (queue, _) = await StartAsync([handler], options: FastRetries(maxAttempts: 2), queueSegmentBytes: 128);

        await queue.PublishAsync("webhook-events", "{\"poison\":true,\"padding\":\"enough to fill most of a segment\"}"u8.ToArray(), Ct);
        await Eventually.TrueAsync(() => Count("queue_deliveries WHERE state = 2") == 1, "the poison message is a dead letter");
        for (var i = 0; i < 6; i++)
        {
            await queue.PublishAsync("webhook-events", Encoding.UTF8.GetBytes($"{{\"n\":{i},\"padding\":\"enough to fill most of a segment\"}}"), Ct);
        }

        await Eventually.TrueAsync(() => handler.Delivered.Count == 6 && SegmentFiles().Length == 1, "the dead letter holds no segment");
        Assert.Equal(1L, Count("queue_messages WHERE body_segment IS NULL AND CAST(body AS TEXT) LIKE '%poison%'"));

        handler.Cured = true;
        await using var inspector = EmbeddedDatabaseFactory.Open(_directory.Path);
        var letters = new LocalDeadLetters(inspector, queue, TimeProvider.System);
        Assert.Equal(1, (await letters.RedriveAsync("catalog", null, Ct)).Redriven);
        await Eventually.TrueAsync(() => handler.Delivered.Count == 7, "the redriven dead letter was delivered");
        Assert.Contains(handler.Delivered, body => body.Contains("poison", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_body_its_segment_has_lost_is_dead_lettered_with_the_reason_and_the_others_are_delivered()
    {
        await using (var database = EmbeddedDatabaseFactory.Open(_directory.Path))
        {
            var publisher = new LocalPubSub(database, TimeProvider.System, [new RecordingHandler("audit", "webhook-events")]);
            for (var i = 0; i < 3; i++)
            {
                await publisher.PublishAsync("webhook-events", Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"), Ct);
            }
        }

        // What a power loss can leave without SyncWrites: the row of message 2 committed, its body not on the disk.
        var (segment, offset) = Row("SELECT body_segment, body_offset FROM queue_messages ORDER BY id LIMIT 1 OFFSET 1");
        using (var file = File.OpenHandle(Path.Combine(_directory.Path, "axentra.db-queue", $"{segment:D10}.log"), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            RandomAccess.Write(file, new byte[15], offset);
        }

        var audit = new RecordingHandler("audit", "webhook-events");
        var deadLetters = new RecordingDeadLetters();
        await StartAsync([audit], deadLetters: deadLetters);

        await Eventually.TrueAsync(() => audit.Successes.Count == 2 && Count("queue_deliveries WHERE state = 2") == 1, "two delivered, one dead letter");
        Assert.Equal(["{\"n\":0}", "{\"n\":2}"], audit.Successes.Order(StringComparer.Ordinal));
        Assert.Equal(1L, Count("queue_deliveries WHERE state = 2 AND last_error LIKE '%body%missing or damaged%'"));
        Assert.DoesNotContain(audit.Attempts, a => a.Message.Contains("\"n\":1", StringComparison.Ordinal)); // never handed to the subscriber
        Assert.Empty(deadLetters.Recorded); // nothing to record it with: the body, and so the event, is unknown
    }

    [Fact]
    public async Task A_dead_letter_whose_body_was_lost_does_not_keep_every_later_segment_on_disk()
    {
        await using (var database = EmbeddedDatabaseFactory.Open(_directory.Path))
        {
            var publisher = new LocalPubSub(database, TimeProvider.System, [new RecordingHandler("audit", "webhook-events")]);
            await publisher.PublishAsync("webhook-events", "{\"n\":0}"u8.ToArray(), Ct);
        }

        var (segment, offset) = Row("SELECT body_segment, body_offset FROM queue_messages ORDER BY id LIMIT 1");
        using (var file = File.OpenHandle(Path.Combine(_directory.Path, "axentra.db-queue", $"{segment:D10}.log"), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            RandomAccess.Write(file, new byte[15], offset); // what a power loss can leave
        }

        var audit = new RecordingHandler("audit", "webhook-events");
        var (queue, _) = await StartAsync([audit], queueSegmentBytes: 128);
        await Eventually.TrueAsync(() => Count("queue_deliveries WHERE state = 2") == 1, "the lost body is a dead letter");
        for (var i = 1; i <= 8; i++)
        {
            await queue.PublishAsync("webhook-events", Encoding.UTF8.GetBytes($"{{\"n\":{i},\"padding\":\"enough to fill most of a segment\"}}"), Ct);
        }

        await Eventually.TrueAsync(() => audit.Successes.Count == 8 && Count("queue_messages") == 1, "the eight others delivered and deleted");
        await Eventually.TrueAsync(() => SegmentFiles().Length <= 2, $"segments no message needs are deleted (still {SegmentFiles().Length})", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_second_process_publishing_into_its_own_segment_does_not_get_a_live_segment_deleted()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(56));
        var audit = new RecordingHandler("audit", "webhook-events", attempt => attempt == 1 ? DeliveryOutcome.Retry : DeliveryOutcome.Success);
        var (host, _) = await StartAsync([audit], clock, new LocalPubSubOptions { InitialBackoff = TimeSpan.FromSeconds(30) }, queueSegmentBytes: 256);

        // Another process on the data directory (what the replay command is, beside a running host): its own segment.
        await using var other = EmbeddedDatabaseFactory.Open(_directory.Path);
        var otherQueue = new LocalPubSub(other, clock, [new RecordingHandler("audit", "webhook-events")]);
        await otherQueue.PublishAsync("webhook-events", "{\"from\":\"the other process\"}"u8.ToArray(), Ct);
        for (var i = 0; i < 5; i++)
        {
            await host.PublishAsync("webhook-events", Encoding.UTF8.GetBytes($"{{\"n\":{i},\"text\":\"a body of about sixty bytes, five to a segment\"}}"), Ct);
        }

        await Eventually.TrueAsync(() => Count("queue_deliveries") == 6, "every first attempt asked for a retry");
        await Task.Delay(2000, Ct); // rounds and idle loops release the segments they find unneeded
        clock.Advance(TimeSpan.FromMinutes(1));
        await Eventually.TrueAsync(() => audit.Successes.Count + Count("queue_deliveries WHERE state = 2") == 6, "every retry settled");

        Assert.Equal(0L, Count("queue_deliveries WHERE state = 2")); // no body was lost
        Assert.Equal(6, audit.Successes.Count);
    }

    [Fact]
    public async Task A_lost_segment_file_is_not_replaced_by_a_new_one_of_the_same_number()
    {
        await using (var database = EmbeddedDatabaseFactory.Open(_directory.Path))
        {
            var publisher = new LocalPubSub(database, TimeProvider.System, [new RecordingHandler("audit", "webhook-events")]);
            await publisher.PublishAsync("webhook-events", "{\"event\":\"A\"}"u8.ToArray(), Ct);
        }

        // The segment file is gone (its directory entry never reached the disk, or axentra.db was restored without it).
        foreach (var file in SegmentFiles())
        {
            File.Delete(file);
        }

        await using (var database = EmbeddedDatabaseFactory.Open(_directory.Path))
        {
            var publisher = new LocalPubSub(database, TimeProvider.System, [new RecordingHandler("audit", "webhook-events")]);
            await publisher.PublishAsync("webhook-events", "{\"event\":\"B\"}"u8.ToArray(), Ct);
        }

        var audit = new RecordingHandler("audit", "webhook-events");
        await StartAsync([audit]);
        await Eventually.TrueAsync(() => audit.Successes.Count + Count("queue_deliveries WHERE state = 2") == 2, "both messages settled");

        // A's body is lost and must be dead-lettered as such, not delivered as B's.
        Assert.Equal(["{\"event\":\"B\"}"], audit.Successes);
    }

    [Fact]
    public async Task A_segment_that_cannot_be_created_does_not_fail_a_commit_that_happened()
    {
        await using var database = EmbeddedDatabaseFactory.Open(_directory.Path, queueSegmentBytes: 16);
        var queue = new LocalPubSub(database, TimeProvider.System, [new RecordingHandler("audit", "webhook-events")]);
        // Segment 1 is written to; something at segment 2's name (here a directory) makes its creation fail, as
        // EMFILE, ENOSPC or EACCES would.
        Directory.CreateDirectory(Path.Combine(_directory.Path, "axentra.db-queue", $"{2:D10}.log"));

        var failed = 0;
        for (var i = 0; i < 3; i++)
        {
            try
            {
                await queue.PublishAsync("webhook-events", Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"), Ct);
            }
            catch (Exception)
            {
                failed++;
            }
        }

        // A publish that failed left nothing behind; one whose message was committed did not fail.
        Assert.Equal(3L - failed, Count("queue_messages"));
    }

    [Fact]
    public async Task A_migration_killed_between_its_two_alter_tables_does_not_leave_a_queue_that_cannot_publish()
    {
        var path = Path.Combine(_directory.Path, "axentra.db");
        await using (var database = EmbeddedDatabaseFactory.Open(_directory.Path))
        {
            Assert.NotNull(database.QueueBodies);
        }

        // What a kill -9 between the migration's two ALTER TABLE statements leaves (each commits on its own).
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            EmbeddedDatabase.Execute(connection, """
                DROP TABLE queue_messages;
                CREATE TABLE queue_messages (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, body BLOB NOT NULL, published_at INTEGER NOT NULL);
                ALTER TABLE queue_messages ADD COLUMN body_segment INTEGER NULL;
                """);
        }

        var audit = new RecordingHandler("audit", "webhook-events");
        var (queue, _) = await StartAsync([audit]);
        await queue.PublishAsync("webhook-events", "{}"u8.ToArray(), Ct);
        await Eventually.TrueAsync(() => audit.Successes.Count == 1, "delivered");
    }

    private string[] SegmentFiles() => Directory.GetFiles(Path.Combine(_directory.Path, "axentra.db-queue"));

    private (long, long) Row(string sql)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_directory.Path, "axentra.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>Rows of <paramref name="tableAndCondition"/>, read on a connection of the test's own.</summary>
    private long Count(string tableAndCondition)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_directory.Path, "axentra.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM " + tableAndCondition;
        return (long)command.ExecuteScalar()!;
    }

    private static LocalPubSubOptions FastRetries(int maxAttempts) =>
        new() { MaxAttempts = maxAttempts, InitialBackoff = TimeSpan.FromMilliseconds(1), MaxBackoff = TimeSpan.FromMilliseconds(5) };

    private static Contracts.WebhookEnvelope Envelope(string eventId) => new()
    {
        EventId = eventId,
        PayloadHash = new string('0', 64),
        EventType = "product_update",
        StoreId = "s-1",
        ProductId = "p-1",
        S3Key = $"s-1/product_update/2025/12/09/{eventId}.json",
        ReceivedAt = DateTimeOffset.UnixEpoch,
        DedupeKey = "payload-hash:0",
        Payload = "{}"u8.ToArray(),
    };

    private async Task<(LocalPubSub Queue, IAsyncDisposable Stop)> StartAsync(
        IMessageHandler[] handlers, TimeProvider? clock = null, LocalPubSubOptions? options = null, IDeadLetterRecorder? deadLetters = null,
        long queueSegmentBytes = QueueBodyLog.DefaultSegmentBytes)
    {
        clock ??= TimeProvider.System;
        var database = EmbeddedDatabaseFactory.Open(_directory.Path, queueSegmentBytes);
        var queue = new LocalPubSub(database, clock, handlers);
        var dispatcher = new LocalPubSubDispatcher(database, queue, handlers, Options.Create(options ?? new LocalPubSubOptions()), clock,
            NullLogger<LocalPubSubDispatcher>.Instance, deadLetters);
        await dispatcher.StartAsync(Ct);
        var stop = new Running(dispatcher, database);
        _running.Add(stop);
        return (queue, stop);
    }

    private sealed class Running(LocalPubSubDispatcher dispatcher, EmbeddedDatabase database) : IAsyncDisposable
    {
        private bool _stopped;

        public async ValueTask DisposeAsync()
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            try
            {
                await dispatcher.StopAsync(CancellationToken.None);
            }
            finally
            {
                dispatcher.Dispose();
                await database.DisposeAsync();
            }
        }
    }

    private sealed class RecordingHandler(string subscriber, string topic, Func<int, DeliveryOutcome>? behaviour = null) : IMessageHandler
    {
        public string Subscriber => subscriber;

        public string Topic => topic;

        public ConcurrentQueue<(string Message, int Attempt)> Attempts { get; } = new();

        public ConcurrentQueue<string> Successes { get; } = new();

        public ValueTask<DeliveryOutcome> HandleAsync(ReadOnlyMemory<byte> message, DeliveryContext context, CancellationToken cancellationToken)
        {
            var text = Encoding.UTF8.GetString(message.Span);
            Attempts.Enqueue((text, context.Attempt));
            var outcome = behaviour?.Invoke(context.Attempt) ?? DeliveryOutcome.Success;
            if (outcome == DeliveryOutcome.Success)
            {
                Successes.Enqueue(text);
            }

            return ValueTask.FromResult(outcome);
        }
    }

    /// <summary>
    /// Always answers <paramref name="outcome"/>, saying why, as the audit and catalog handlers do: a retry for a backend
    /// that is down, a drop for poison input.
    /// </summary>
    private sealed class ReasonedHandler(DeliveryOutcome outcome) : IMessageHandler
    {
        public string Subscriber => "catalog";

        public string Topic => "webhook-events";

        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public ValueTask<DeliveryOutcome> HandleAsync(ReadOnlyMemory<byte> message, DeliveryContext context, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            if (outcome == DeliveryOutcome.Retry)
            {
                context.RetryReason = $"backend unavailable: bucket down (attempt {context.Attempt})";
            }
            else
            {
                context.DropReason = "conflict: payload object 'k' already holds different bytes; it was kept";
            }

            return ValueTask.FromResult(outcome);
        }
    }

    /// <summary>Never finishes a delivery: it is still in flight when the host stops.</summary>
    private sealed class HangingHandler(string subscriber, string topic) : IMessageHandler
    {
        public string Subscriber => subscriber;

        public string Topic => topic;

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<DeliveryOutcome> HandleAsync(ReadOnlyMemory<byte> message, DeliveryContext context, CancellationToken cancellationToken)
        {
            Started.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return DeliveryOutcome.Success;
        }
    }

    /// <summary>Holds every delivery until <see cref="Open"/>, then succeeds.</summary>
    private sealed class GatedHandler(string subscriber, string topic) : IMessageHandler
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Subscriber => subscriber;

        public string Topic => topic;

        public void Open() => _gate.TrySetResult();

        public async ValueTask<DeliveryOutcome> HandleAsync(ReadOnlyMemory<byte> message, DeliveryContext context, CancellationToken cancellationToken)
        {
            await _gate.Task.WaitAsync(cancellationToken);
            return DeliveryOutcome.Success;
        }
    }

    /// <summary>Retries a message that says "poison" until <see cref="Cured"/>; delivers the rest.</summary>
    private sealed class PoisonHandler : IMessageHandler
    {
        public string Subscriber => "catalog";

        public string Topic => "webhook-events";

        public volatile bool Cured;

        public ConcurrentQueue<string> Delivered { get; } = new();

        public ValueTask<DeliveryOutcome> HandleAsync(ReadOnlyMemory<byte> message, DeliveryContext context, CancellationToken cancellationToken)
        {
            var text = Encoding.UTF8.GetString(message.Span);
            if (!Cured && text.Contains("poison", StringComparison.Ordinal))
            {
                return ValueTask.FromResult(DeliveryOutcome.Retry);
            }

            Delivered.Enqueue(text);
            return ValueTask.FromResult(DeliveryOutcome.Success);
        }
    }

    /// <summary>The registry's record for the commit, and a count of calls to the after-the-commit path (which throws).</summary>
    private sealed class RecordOnlyInTheCommit(Registry.EventRegistry registry) : IDeadLetterRecorder
    {
        public int AfterTheCommit { get; private set; }

        public ValueTask RecordAsync(string subscriber, ReadOnlyMemory<byte> message, string reason, int attempts, CancellationToken cancellationToken)
        {
            AfterTheCommit++;
            throw new InvalidOperationException("recorded after the commit");
        }

        public BuildingBlocks.State.StateWrite? RecordOf(string subscriber, ReadOnlyMemory<byte> message, string reason, int attempts) =>
            registry.RecordOf(subscriber, message, reason, attempts);
    }

    private sealed class RecordingDeadLetters : IDeadLetterRecorder
    {
        public ConcurrentQueue<(string Subscriber, string Message, string Reason, int Attempts)> Recorded { get; } = new();

        public ValueTask RecordAsync(string subscriber, ReadOnlyMemory<byte> message, string reason, int attempts, CancellationToken cancellationToken)
        {
            Recorded.Enqueue((subscriber, Encoding.UTF8.GetString(message.Span), reason, attempts));
            return ValueTask.CompletedTask;
        }
    }
}
