namespace Axentra.BuildingBlocks.PubSub;

/// <summary>
/// Told when a subscriber gives up on a message (attempt budget spent, or DROP), so the event's registry entry
/// shows it as dead-lettered. Optional: without one, the dead letter is only kept by the broker/queue.
/// </summary>
public interface IDeadLetterRecorder
{
    ValueTask RecordAsync(string subscriber, ReadOnlyMemory<byte> message, string reason, int attempts, CancellationToken cancellationToken);

    /// <summary>
    /// The state write <see cref="RecordAsync"/> makes, or null when it makes none: for a queue that keeps its dead
    /// letters in the state store's own database, to commit the record with the dead letter itself, so that a crash
    /// between the two cannot leave a dead letter whose event does not show it.
    /// </summary>
    State.StateWrite? RecordOf(string subscriber, ReadOnlyMemory<byte> message, string reason, int attempts) => null;
}
