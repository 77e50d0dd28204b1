namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// The durable queue's statements on the delivery path: each runs once per message, per delivery or per dispatch
/// round, so each must find its rows through an index, whatever the backlog (LocalQueueStatementPlanTests checks
/// SQLite's plans).
/// </summary>
/// <remarks>
/// The queue is a log with a cursor per subscriber (<see cref="EmbeddedSchema"/>): publishing appends one message
/// row; a subscriber reads its topic's messages past its cursor and moves the cursor past a round once every
/// message in it was handled. Only a delivery that failed gets a row of its own (<c>queue_deliveries</c>), for its
/// retries or as a dead letter.
/// </remarks>
internal static class LocalQueueStatements
{
    /// <summary>A message whose body is in the body segments (<see cref="QueueBodyLog"/>): its row keeps where.</summary>
    public const string InsertMessage = """
        INSERT INTO queue_messages (topic, body, published_at, body_segment, body_offset) VALUES ($topic, X'', $now, $segment, $offset)
        """;

    /// <summary>
    /// A subscriber seen for the first time starts at the end of the log, like a new subscription on a broker: it is
    /// owed what is published from now on. Records its topic, so the queue's depth can be read from the database alone.
    /// </summary>
    public const string EnsureCursor = """
        INSERT INTO queue_cursors (subscriber, topic, position)
        VALUES ($subscriber, $topic, COALESCE((SELECT MAX(id) FROM queue_messages), 0))
        ON CONFLICT (subscriber) DO UPDATE SET topic = excluded.topic WHERE topic <> excluded.topic
        """;

    public const string ReadCursor = "SELECT position FROM queue_cursors WHERE subscriber = $subscriber";

    public const string ReadCursors = "SELECT subscriber, position FROM queue_cursors WHERE topic = $topic";

    /// <summary>A subscriber's next messages: its topic's, past its cursor, oldest first.</summary>
    public const string FetchNew = "SELECT id, body, body_segment, body_offset FROM queue_messages WHERE topic = $topic AND id > $after ORDER BY id LIMIT $limit";

    /// <summary>A subscriber's failed deliveries that are due again, oldest message first.</summary>
    public const string FetchDue = """
        SELECT d.message_id, d.attempts, m.body, m.body_segment, m.body_offset FROM queue_deliveries d
        JOIN queue_messages m ON m.id = d.message_id
        WHERE d.subscriber = $subscriber AND d.state = 0 AND d.next_attempt_at <= $now
        ORDER BY d.message_id LIMIT $limit
        """;

    /// <summary>When the subscriber's next failed delivery falls due again.</summary>
    public const string NextDue = "SELECT MIN(next_attempt_at) FROM queue_deliveries WHERE subscriber = $subscriber AND state = 0";

    /// <summary>Every message of the subscriber's topic up to <c>$position</c> was handled or has a row of its own.</summary>
    public const string MoveCursor = "UPDATE queue_cursors SET position = $position WHERE subscriber = $subscriber";

    /// <summary>
    /// A topic's messages every subscriber has moved past (<c>$from</c>, <c>$to</c>], except those a failed delivery
    /// still holds.
    /// </summary>
    public const string DeleteSettled = """
        DELETE FROM queue_messages WHERE topic = $topic AND id > $from AND id <= $to
        AND NOT EXISTS (SELECT 1 FROM queue_deliveries WHERE message_id = queue_messages.id)
        """;

    /// <summary>
    /// A retried delivery succeeded: forget it, and its message once every subscriber has moved past it
    /// (<c>$settled</c>) and no other failed delivery holds it.
    /// </summary>
    public const string Acknowledge = """
        DELETE FROM queue_deliveries WHERE subscriber = $subscriber AND message_id = $id;
        DELETE FROM queue_messages WHERE id = $id AND id <= $settled AND NOT EXISTS (SELECT 1 FROM queue_deliveries WHERE message_id = $id);
        """;

    /// <summary>A delivery failed: its next attempt, or dead-lettered (state 2). The first failure creates its row.</summary>
    public const string RecordFailure = """
        INSERT INTO queue_deliveries (subscriber, message_id, state, attempts, next_attempt_at, last_error)
        VALUES ($subscriber, $id, $state, $attempts, $next, $error)
        ON CONFLICT (subscriber, message_id) DO UPDATE
        SET state = excluded.state, attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error
        """;

    /// <summary>
    /// A dead letter's body, copied into its row: it may be kept for long, and would otherwise hold its body segment
    /// (<see cref="QueueBodyLog"/>) for as long.
    /// </summary>
    public const string KeepBody = "UPDATE queue_messages SET body = $body, body_segment = NULL, body_offset = NULL WHERE id = $id AND body_segment IS NOT NULL";

    /// <summary>
    /// The oldest body segment a message still refers to, through queue_messages_segment (EmbeddedSchema.MigrateQueue):
    /// not the segment of the oldest row, since another process on the data directory appends rows that refer to its
    /// own segment between this one's, and not a scan, which passed every dead letter and pre-segment row on the
    /// writer's thread. A body found lost (<see cref="LoseBody"/>) holds nothing.
    /// </summary>
    public const string OldestSegment = "SELECT MIN(body_segment) FROM queue_messages WHERE body_segment > 0";

    /// <summary>The newest segment a row refers to: a new segment is numbered after it, even when its file is gone.</summary>
    public const string NewestSegment = "SELECT MAX(body_segment) FROM queue_messages WHERE body_segment > 0";

    /// <summary>A dead letter whose body was found lost: it no longer holds its segment (nor every later one).</summary>
    public const string LoseBody = "UPDATE queue_messages SET body_segment = -body_segment WHERE id = $id AND body_segment > 0";

    /// <summary>One message's body, read again when its segment did not have it (LocalPubSubDispatcher).</summary>
    public const string ReadBody = "SELECT body, body_segment, body_offset FROM queue_messages WHERE id = $id";

    public static IReadOnlyList<string> DeliveryPath { get; } =
        [InsertMessage, EnsureCursor, ReadCursor, ReadCursors, FetchNew, FetchDue, NextDue, MoveCursor, DeleteSettled, Acknowledge, RecordFailure, KeepBody,
         OldestSegment, LoseBody, ReadBody];
}
