using System.Globalization;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.Registry;
using Axentra.Contracts;
using Microsoft.Extensions.Logging;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// The standalone host's dead letters: delivery rows the dispatcher marked dead. Listing shows them; a redrive
/// puts them back to pending with a fresh attempt budget, for that one subscriber only; a resolution forgets the row
/// and records stage <c>resolved:{subscriber}</c> on the event in the same commit. Message ids are the queue's row
/// ids, as strings in the <see cref="IDeadLetters"/> contract.
/// </summary>
public sealed partial class LocalDeadLetters(
    EmbeddedDatabase database,
    LocalPubSub pubSub,
    TimeProvider timeProvider,
    EventRegistry? registry = null,
    SqliteStateStore? state = null,
    DeadLetterMetrics? metrics = null,
    ILogger<LocalDeadLetters>? logger = null) : IDeadLetters
{
    public ValueTask<IReadOnlyList<DeadLetter>> ListAsync(string? subscriber, int limit, CancellationToken cancellationToken) =>
        ValueTask.FromResult(List(subscriber, limit));

    public async ValueTask<DeadLetterRedrive> RedriveAsync(string? subscriber, string? messageId, CancellationToken cancellationToken)
    {
        long? id = null;
        if (messageId is not null)
        {
            if (!long.TryParse(messageId, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return new DeadLetterRedrive(0, null); // not one of ours: no such dead letter
            }

            id = parsed;
        }

        return new DeadLetterRedrive(await RedriveRowsAsync(subscriber, id, cancellationToken).ConfigureAwait(false), null);
    }

    public async ValueTask<bool> ResolveAsync(string subscriber, string messageId, string reason, CancellationToken cancellationToken)
    {
        if (!long.TryParse(messageId, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return false;
        }

        var (found, eventId) = await database.WriteAsync(connection =>
        {
            string topic;
            byte[]? body;
            using (var find = connection.CreateCommand())
            {
                find.CommandText = """
                    SELECT m.topic, m.body, m.body_segment, m.body_offset FROM queue_deliveries d JOIN queue_messages m ON m.id = d.message_id
                    WHERE d.subscriber = $subscriber AND d.message_id = $id AND d.state = 2
                    """;
                find.Parameters.AddWithValue("$subscriber", subscriber);
                find.Parameters.AddWithValue("$id", id);
                using var reader = find.ExecuteReader();
                if (!reader.Read())
                {
                    return (false, null);
                }

                (topic, body) = (reader.GetString(0), pubSub.BodyOf(reader, 1));
            }

            var eventId = body is null ? null : WebhookEnvelope.TryParse(body)?.EventId;
            if (eventId is not null && state is not null && registry is not null)
            {
                state.Save(connection, registry.ResolutionOf(subscriber, eventId, reason));
            }

            // The message goes too once no subscriber is owed it: every cursor of its topic is past it and no other
            // failed delivery holds it (the dispatcher's sweep of its range has been and gone).
            using var forget = connection.CreateCommand();
            forget.CommandText = """
                DELETE FROM queue_deliveries WHERE subscriber = $subscriber AND message_id = $id;
                DELETE FROM queue_messages WHERE id = $id AND id <= (SELECT COALESCE(MIN(position), 0) FROM queue_cursors WHERE topic = $topic)
                AND NOT EXISTS (SELECT 1 FROM queue_deliveries WHERE message_id = $id);
                """;
            forget.Parameters.AddWithValue("$subscriber", subscriber);
            forget.Parameters.AddWithValue("$id", id);
            forget.Parameters.AddWithValue("$topic", topic);
            forget.ExecuteNonQuery();
            return (true, eventId);
        }, cancellationToken).ConfigureAwait(false);
        if (found)
        {
            metrics?.Resolved(subscriber);
            if (logger is not null)
            {
                LogResolved(logger, subscriber, messageId, eventId ?? "(none)", reason);
            }
        }

        return found;
    }

    public IReadOnlyList<DeadLetter> List(string? subscriber, int limit) => database.Read(connection =>
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT d.subscriber, d.message_id, m.topic, m.body, m.body_segment, m.body_offset, d.attempts, d.last_error, m.published_at
            FROM queue_deliveries d JOIN queue_messages m ON m.id = d.message_id
            WHERE d.state = 2 AND ($subscriber IS NULL OR d.subscriber = $subscriber)
            ORDER BY d.message_id LIMIT $limit
            """;
        command.Parameters.AddWithValue("$subscriber", (object?)subscriber ?? DBNull.Value);
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        var list = new List<DeadLetter>();
        while (reader.Read())
        {
            var envelope = pubSub.BodyOf(reader, 3) is { } body ? WebhookEnvelope.TryParse(body) : null;
            list.Add(new DeadLetter(
                reader.GetString(0), reader.GetInt64(1).ToString(CultureInfo.InvariantCulture), reader.GetString(2), envelope?.EventId, envelope?.EventType,
                envelope?.StoreId, reader.GetInt32(6), reader.IsDBNull(7) ? null : reader.GetString(7), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)),
                DeadLetteredAt: null));
        }

        return list;
    });

    /// <summary>Puts dead letters back to pending (one message, or all of a subscriber's, or all); returns how many.</summary>
    private async Task<int> RedriveRowsAsync(string? subscriber, long? messageId, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var redriven = await database.WriteAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                UPDATE queue_deliveries SET state = 0, attempts = 0, next_attempt_at = $now, last_error = NULL
                WHERE state = 2 AND ($subscriber IS NULL OR subscriber = $subscriber) AND ($id IS NULL OR message_id = $id)
                """;
            command.Parameters.AddWithValue("$now", now);
            command.Parameters.AddWithValue("$subscriber", (object?)subscriber ?? DBNull.Value);
            command.Parameters.AddWithValue("$id", (object?)messageId ?? DBNull.Value);
            return command.ExecuteNonQuery();
        }, cancellationToken).ConfigureAwait(false);
        if (redriven > 0)
        {
            pubSub.NotifyRedriven(subscriber);
        }

        return redriven;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead letter {MessageId} of {Subscriber} (event {EventId}) resolved by an operator without a redrive: {Reason}")]
    private static partial void LogResolved(ILogger logger, string subscriber, string messageId, string eventId, string reason);
}
