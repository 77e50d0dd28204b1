using Axentra.BuildingBlocks.PubSub;
using Microsoft.Data.Sqlite;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// The standalone host's pub/sub: a durable queue in the embedded database. Publishing stores the message and
/// one pending delivery per subscriber of its topic in the same commit, so a message acknowledged to the
/// publisher survives a killed process and is delivered to every subscriber at least once.
/// </summary>
public sealed class LocalPubSub : IMessagePublisher
{
    private readonly EmbeddedDatabase _database;
    private readonly TimeProvider _timeProvider;
    private readonly Lazy<Dictionary<string, string[]>> _subscriptions;

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
        await _database.WriteAsync(connection => Insert(connection, topic, body, subscribers, now), cancellationToken).ConfigureAwait(false);
        NotifyPublished(subscribers);
    }

    /// <summary>The subscribers of <paramref name="topic"/>; null when it has none.</summary>
    internal string[]? SubscribersOf(string topic) =>
        SubscribersByTopic.TryGetValue(topic, out var subscribers) && subscribers.Length > 0 ? subscribers : null;

    /// <summary>Stores a message and one pending delivery per subscriber, inside a write the caller runs.</summary>
    internal long Insert(SqliteConnection connection, string topic, byte[] body, string[] subscribers, long now)
    {
        var insert = _database.Prepared(connection, LocalQueueStatements.InsertMessage);
        insert.Parameters.AddWithValue("$topic", topic);
        insert.Parameters.AddWithValue("$body", body);
        insert.Parameters.AddWithValue("$now", now);
        var id = (long)insert.ExecuteScalar()!;

        var delivery = _database.Prepared(connection, LocalQueueStatements.InsertDelivery);
        var subscriberParameter = delivery.Parameters.Add("$subscriber", SqliteType.Text);
        delivery.Parameters.AddWithValue("$id", id);
        delivery.Parameters.AddWithValue("$now", now);
        foreach (var subscriber in subscribers)
        {
            subscriberParameter.Value = subscriber;
            delivery.ExecuteNonQuery();
        }

        return id;
    }

    /// <summary>Wakes the subscribers' dispatchers once the write holding their deliveries has committed.</summary>
    internal void NotifyPublished(string[] subscribers)
    {
        foreach (var subscriber in subscribers)
        {
            Published?.Invoke(subscriber);
        }
    }
}
