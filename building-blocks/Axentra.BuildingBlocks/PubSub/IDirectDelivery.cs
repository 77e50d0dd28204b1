namespace Axentra.BuildingBlocks.PubSub;

/// <summary>The answer of a subscriber to a direct delivery, and in words what went wrong when it was not a success.</summary>
public sealed record DirectDeliveryResult(DeliveryOutcome Outcome, string? Problem);

/// <summary>
/// Hands one message straight to a subscriber's handler, past the broker, and returns its answer: how the
/// distributed intake redrives a dead letter. The subscriber handles it exactly as a broker delivery.
/// </summary>
public interface IDirectDelivery
{
    /// <summary>Throws <see cref="BackendUnavailableException"/> when the message could not be handed over at all.</summary>
    ValueTask<DirectDeliveryResult> DeliverAsync(
        string subscriber, string topic, string messageId, ReadOnlyMemory<byte> message, CancellationToken cancellationToken);
}
