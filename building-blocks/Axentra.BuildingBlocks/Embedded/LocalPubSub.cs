using Axentra.BuildingBlocks.PubSub;
using Microsoft.Data.Sqlite;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// The standalone host's pub/sub: a durable queue in the embedded database. Publishing appends the message to the
/// queue's log in the publisher's commit (its row in the database, its body to the body segments beside it,
/// <see cref="QueueBodyLog"/>); each subscriber reads its topic past its own cursor (<see cref="LocalPubSubDispatcher"/>).
/// So a message acknowledged to the publisher survives a killed process and is delivered to every subscriber of its
/// topic at least once.
/// </summary>
public sealed class LocalPubSub : IMessagePublisher
{
    private readonly EmbeddedDatabase _database;
    private readonly TimeProvider _timeProvider;
    private readonly Lazy<Dictionary<string, string[]>> _subscriptions;
    private volatile bool _cursorsCommitted;

    /// <param name="database">The embedded database holding the queue.</param>
    /// <param name="timeProvider">Clock for publish times.</param>
    /// <param name="handlers">
    /// The subscribers. Enumerated at the first publish, not here: a subscriber may itself publish (catalog sends
    /// KB-refresh messages), so building the handlers while building this publisher would be a cycle.
    /// </param>
    public LocalPubSub(EmbeddedDatabase database, TimeProvider timeProvider, IEnumerable<IMessageHandler> handlers)
    {
        _database = database;
        _timeProvider = timeProvider;
        _subscriptions = new Lazy<Dictionary<string, string[]>>(() => handlers
            .GroupBy(h => h.Topic, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(h => h.Subscriber).Distinct(StringComparer.Ordinal).ToArray(), StringComparer.Ordinal));
    }

    private Dictionary<string, string[]> SubscribersByTopic => _subscriptions.Value;

    /// <summary>Raised after a publish commits, so dispatchers wake without polling.</summary>
    public event Action<string>? Published;

    /// <summary>Wakes the dispatchers of redriven dead letters (all subscribers when null).</summary>
    internal void NotifyRedriven(string? subscriber)
    {
        foreach (var name in SubscribersByTopic.Values.SelectMany(s => s).Distinct(StringComparer.Ordinal))
        {
            if (subscriber is null || subscriber == name)
            {
                Published?.Invoke(name);
            }
        }
    }

    public async ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> jsonMessage, CancellationToken cancellationToken)
    {
        if (SubscribersOf(topic) is not { } subscribers)
        {
            return; // like a broker topic nobody subscribes to; mirrors (e.g. the KB-refresh file) still see it
        }

        var now = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var body = jsonMessage.ToArray();
        await _database.WriteAsync(connection => { Insert(connection, topic, body, now); return true; }, cancellationToken).ConfigureAwait(false);
        NotifyPublished(subscribers);
    }

    /// <summary>The subscribers of <paramref name="topic"/>; null when it has none.</summary>
    internal string[]? SubscribersOf(string topic) =>
        SubscribersByTopic.TryGetValue(topic, out var subscribers) && subscribers.Length > 0 ? subscribers : null;

    /// <summary>Appends a message to the log, inside a write the caller runs: its row, and its body to the body segments.</summary>
    internal void Insert(SqliteConnection connection, string topic, byte[] body, long now)
    {
        // Until a publish has committed, this process's subscribers may have no cursor yet: one created after this
        // message would start past it. INSERT … ON CONFLICT makes the repeats in the same group commit harmless.
        if (!_cursorsCommitted)
        {
            EnsureCursors(connection);
        }

        var (segment, offset) = _database.QueueBodies.Append(body);
        var insert = _database.Prepared(connection, LocalQueueStatements.InsertMessage);
        insert.Parameters.AddWithValue("$topic", topic);
        insert.Parameters.AddWithValue("$now", now);
        insert.Parameters.AddWithValue("$segment", segment);
        insert.Parameters.AddWithValue("$offset", offset);
        insert.ExecuteNonQuery();
    }

    /// <summary>A cursor for every subscriber that has none, at the end of the log, inside a write the caller runs.</summary>
    internal void EnsureCursors(SqliteConnection connection)
    {
        var command = _database.Prepared(connection, LocalQueueStatements.EnsureCursor);
        var subscriber = command.Parameters.Add("$subscriber", SqliteType.Text);
        var topic = command.Parameters.Add("$topic", SqliteType.Text);
        foreach (var (name, subscribers) in SubscribersByTopic)
        {
            topic.Value = name;
            foreach (var s in subscribers)
            {
                subscriber.Value = s;
                command.ExecuteNonQuery();
            }
        }
    }

    /// <summary>
    /// A message's body from a row's <c>body</c>, <c>body_segment</c> and <c>body_offset</c> columns (at
    /// <paramref name="column"/> and the two after it): in the row itself (a dead letter, or a message from before
    /// the body segments), else in its segment. Null when the segment has lost it (<see cref="QueueBodyLog.Read"/>).
    /// </summary>
    internal byte[]? BodyOf(SqliteDataReader reader, int column) =>
        reader.IsDBNull(column + 1) ? (byte[])reader.GetValue(column) : _database.QueueBodies.Read(reader.GetInt64(column + 1), reader.GetInt64(column + 2));

    /// <summary>Wakes the subscribers' dispatchers once the write holding the message has committed.</summary>
    internal void NotifyPublished(string[] subscribers)
    {
        _cursorsCommitted = true;
        foreach (var subscriber in subscribers)
        {
            Published?.Invoke(subscriber);
        }
    }
}
