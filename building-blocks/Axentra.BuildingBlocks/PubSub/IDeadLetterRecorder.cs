namespace Axentra.BuildingBlocks.PubSub;

/// <summary>
/// Told when a subscriber gives up on a message (attempt budget spent, or DROP), so the event's registry entry
/// shows it as dead-lettered. Optional: without one, the dead letter is only kept by the broker/queue.
/// </summary>
public interface IDeadLetterRecorder
{
    ValueTask RecordAsync(string subscriber, ReadOnlyMemory<byte> message, string reason, int attempts, CancellationToken cancellationToken);
}
