namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// The durable queue's statements on the delivery path: each runs once per message or per delivery, so each must
/// find its rows through an index, whatever the backlog (LocalQueueStatementPlanTests checks SQLite's plans).
/// </summary>
internal static class LocalQueueStatements
{
    public const string InsertMessage = "INSERT INTO queue_messages (topic, body, published_at) VALUES ($topic, $body, $now) RETURNING id";

    public const string InsertDelivery = "INSERT INTO queue_deliveries (subscriber, message_id, next_attempt_at) VALUES ($subscriber, $id, $now)";

    /// <summary>A subscriber's due deliveries, oldest message first.</summary>
    public const string FetchDue = """
        SELECT d.message_id, d.attempts, m.body FROM queue_deliveries d
        JOIN queue_messages m ON m.id = d.message_id
        WHERE d.subscriber = $subscriber AND d.state = 0 AND d.next_attempt_at <= $now
        ORDER BY d.message_id LIMIT $limit
        """;

    /// <summary>When the subscriber's next pending delivery falls due.</summary>
    public const string NextDue = "SELECT MIN(next_attempt_at) FROM queue_deliveries WHERE subscriber = $subscriber AND state = 0";

    /// <summary>A delivery succeeded: forget it, and the message once no subscriber is owed it any more.</summary>
    public const string Acknowledge = """
        DELETE FROM queue_deliveries WHERE subscriber = $subscriber AND message_id = $id;
        DELETE FROM queue_messages WHERE id = $id AND NOT EXISTS (SELECT 1 FROM queue_deliveries WHERE message_id = $id);
        """;

    /// <summary>A delivery failed: its next attempt, or dead-lettered (state 2).</summary>
    public const string Reschedule = """
        UPDATE queue_deliveries SET attempts = $attempts, next_attempt_at = $next, last_error = $error, state = $state
        WHERE subscriber = $subscriber AND message_id = $id
        """;

    public static IReadOnlyList<string> DeliveryPath { get; } = [InsertMessage, InsertDelivery, FetchDue, NextDue, Acknowledge, Reschedule];
}
