namespace Axentra.BuildingBlocks.PubSub;

/// <summary>Publishes a JSON message to a topic, shaped like Dapr's pub/sub building block.</summary>
public interface IMessagePublisher
{
    /// <summary>
    /// Returns once the message is durably accepted by the broker (or the local queue); throws
    /// <see cref="BackendUnavailableException"/> otherwise. The bytes are delivered to subscribers unchanged.
    /// </summary>
    ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> jsonMessage, CancellationToken cancellationToken);
}
