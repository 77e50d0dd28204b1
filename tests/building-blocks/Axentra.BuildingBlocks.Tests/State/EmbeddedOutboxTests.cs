using System.Collections.Concurrent;
using System.Text;
using Axentra.BuildingBlocks.Embedded;
using Axentra.BuildingBlocks.State;
using Axentra.BuildingBlocks.Tests.Support;

namespace Axentra.BuildingBlocks.Tests.State;

/// <summary>The standalone host's transactional outbox: state writes and a publish commit together or not at all.</summary>
public sealed class EmbeddedOutboxTests : IAsyncDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly EmbeddedDatabase _database;
    private readonly SqliteStateStore _state;
    private readonly LocalPubSub _queue;
    private readonly EmbeddedOutbox _outbox;
    private readonly ConcurrentQueue<string> _woken = new();

    public EmbeddedOutboxTests()
    {
        _database = EmbeddedDatabaseFactory.Open(_directory.Path);
        _state = new SqliteStateStore(_database, TimeProvider.System);
        _queue = new LocalPubSub(_database, TimeProvider.System, [new NamedSubscriber("audit"), new NamedSubscriber("catalog")]);
        _queue.Published += _woken.Enqueue;
        _outbox = new EmbeddedOutbox(_database, _state, _queue);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        await _database.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task A_won_claim_commits_its_writes_and_one_delivery_per_subscriber_and_wakes_them()
    {
        var outcome = await _outbox.TryCommitAsync(Commit("claim", "first", etag: null, "{\"n\":1}"), Ct);

        Assert.Equal(SaveOutcome.Saved, outcome);
        Assert.Equal("first", Text(await _state.GetAsync("claim", Ct)));
        Assert.Equal("record", Text(await _state.GetAsync("registry", Ct)));
        Assert.Equal("index", Text(await _state.GetAsync("index", Ct)));
        Assert.Equal([("audit", "{\"n\":1}"), ("catalog", "{\"n\":1}")], Deliveries());
        Assert.Equal(["audit", "catalog"], _woken.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_lost_claim_writes_and_publishes_nothing()
    {
        await _state.SaveAsync("claim", "taken"u8.ToArray(), null, Ct);

        var outcome = await _outbox.TryCommitAsync(Commit("claim", "second", etag: null, "{\"n\":2}"), Ct);

        Assert.Equal(SaveOutcome.Conflict, outcome);
        Assert.Equal("taken", Text(await _state.GetAsync("claim", Ct)));
        Assert.Null(await _state.GetAsync("registry", Ct));
        Assert.Empty(Deliveries());
        Assert.Empty(_woken);
    }

    [Fact]
    public async Task A_claim_guarded_by_an_etag_commits_only_over_that_etag()
    {
        await _state.SaveAsync("claim", "pending"u8.ToArray(), null, Ct);
        var etag = (await _state.GetAsync("claim", Ct))!.ETag;

        Assert.Equal(SaveOutcome.Conflict, await _outbox.TryCommitAsync(Commit("claim", "stale", etag: "not-the-etag", "{}"), Ct));
        Assert.Equal(SaveOutcome.Saved, await _outbox.TryCommitAsync(Commit("claim", "taken over", etag, "{}"), Ct));
        Assert.Equal("taken over", Text(await _state.GetAsync("claim", Ct)));
        Assert.Equal(2, Deliveries().Count);
    }

    [Fact]
    public async Task Racing_first_writes_of_one_claim_commit_exactly_once()
    {
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            _outbox.TryCommitAsync(Commit("claim", $"writer {i}", etag: null, $"{{\"n\":{i}}}"), Ct).AsTask()));

        Assert.Single(outcomes, o => o == SaveOutcome.Saved);
        Assert.Equal(2, Deliveries().Count);
    }

    private static OutboxCommit Commit(string key, string value, string? etag, string message) => new(
        new StateWrite(key, Encoding.UTF8.GetBytes(value), TimeSpan.FromHours(1)),
        etag,
        [new StateWrite("registry", "record"u8.ToArray(), null), new StateWrite("index", "index"u8.ToArray(), TimeSpan.FromDays(1))],
        "webhook-events",
        Encoding.UTF8.GetBytes(message));

    private static string? Text(StateEntry? entry) => entry is null ? null : Encoding.UTF8.GetString(entry.Value.Span);

    /// <summary>What each subscriber is owed: its topic's messages past its cursor, with their bodies (in the body segments).</summary>
    private List<(string Subscriber, string Body)> Deliveries() => _database.Read(connection =>
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT c.subscriber, m.body, m.body_segment, m.body_offset FROM queue_cursors c JOIN queue_messages m ON m.topic = c.topic AND m.id > c.position ORDER BY c.subscriber, m.id";
        using var reader = command.ExecuteReader();
        var list = new List<(string, string)>();
        while (reader.Read())
        {
            list.Add((reader.GetString(0), Encoding.UTF8.GetString(_queue.BodyOf(reader, 1)!)));
        }

        return list;
    });
}
