namespace Axentra.BuildingBlocks.PubSub;

/// <summary>What a subscriber tells the broker about one delivery (Dapr's SUCCESS / RETRY / DROP).</summary>
public enum DeliveryOutcome
{
    Success,

    /// <summary>Transient failure: redeliver later (with backoff), dead-letter after the attempt budget.</summary>
    Retry,

    /// <summary>Poison input that can never succeed: stop delivering it. The handler records why first.</summary>
    Drop,
}

/// <summary>Facts about a delivery the handler may use (attempt number, for logging and metrics).</summary>
public sealed record DeliveryContext(string MessageId, int Attempt)
{
    /// <summary>
    /// Why the handler answered <see cref="DeliveryOutcome.Retry"/>, in words for the operator (no payload content):
    /// the standalone queue keeps it as the delivery's last error, which the dead letter and the event's
    /// <c>dead_lettered</c> stage show once the retries run out. Dapr's RETRY has no reason; there the handler's log
    /// line is the record.
    /// </summary>
    public string? RetryReason { get; set; }

    /// <summary>
    /// Why the handler answered <see cref="DeliveryOutcome.Drop"/>, in words for the operator (no payload content): the
    /// standalone queue lists it with the dead letter, as the distributed list shows the reason the handler recorded
    /// on the event. The handler records it on the event's <c>dead_lettered</c> stage itself.
    /// </summary>
    public string? DropReason { get; set; }
}

/// <summary>
/// A subscriber of one topic. The same handler runs behind a Dapr subscription endpoint (distributed) and behind
/// the durable local queue's dispatcher (standalone).
/// </summary>
public interface IMessageHandler
{
    /// <summary>Subscriber name, unique per topic (the app id in the distributed mode).</summary>
    string Subscriber { get; }

    string Topic { get; }

    ValueTask<DeliveryOutcome> HandleAsync(ReadOnlyMemory<byte> message, DeliveryContext context, CancellationToken cancellationToken);
}
