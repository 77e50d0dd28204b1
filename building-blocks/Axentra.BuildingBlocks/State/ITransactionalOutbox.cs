namespace Axentra.BuildingBlocks.State;

/// <summary>One state write of an <see cref="OutboxCommit"/>.</summary>
public sealed record StateWrite(string Key, ReadOnlyMemory<byte> Value, TimeSpan? TimeToLive);

/// <summary>
/// What <see cref="ITransactionalOutbox.TryCommitAsync"/> commits at once: a conditional write (a first-write when
/// <see cref="ETag"/> is null, else a write guarded by it), further unconditional writes, and one message.
/// </summary>
/// <remarks>
/// An outbox may read the values and the message until the commit is done, after the caller stopped waiting (a
/// cancelled wait), and without copying them: pass bytes nobody changes afterwards, such as a serialiser's fresh array.
/// </remarks>
public sealed record OutboxCommit(StateWrite Condition, string? ETag, IReadOnlyList<StateWrite> Writes, string Topic, ReadOnlyMemory<byte> Message);

/// <summary>
/// State writes and a publish committed as one transaction (the transactional outbox pattern): either all of it
/// happened or none of it did. An optional capability, offered where the state store and the queue share a
/// database (the standalone host); callers fall back to <see cref="IStateStore"/> and
/// <see cref="PubSub.IMessagePublisher"/> in protocol order where it is not registered (the Dapr adapters).
/// </summary>
public interface ITransactionalOutbox
{
    /// <summary>
    /// Commits <paramref name="commit"/>; <see cref="SaveOutcome.Conflict"/>, with nothing written or published,
    /// when its condition fails.
    /// </summary>
    ValueTask<SaveOutcome> TryCommitAsync(OutboxCommit commit, CancellationToken cancellationToken);
}
