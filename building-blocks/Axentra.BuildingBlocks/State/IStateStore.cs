namespace Axentra.BuildingBlocks.State;

/// <summary>A stored value and the ETag that guards the next conditional write of it.</summary>
public sealed record StateEntry(ReadOnlyMemory<byte> Value, string ETag);

public enum SaveOutcome
{
    Saved,

    /// <summary>The condition failed: the key exists (first-write) or its ETag moved on.</summary>
    Conflict,
}

/// <summary>
/// Key/value state with optimistic concurrency and expiry, shaped like Dapr's state building block.
/// Values are opaque bytes (JSON by convention); expired entries are absent for every operation.
/// </summary>
public interface IStateStore
{
    ValueTask<StateEntry?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Conditional write. With <paramref name="etag"/> null it is a first-write: it succeeds only when the key is
    /// absent. Otherwise it succeeds only when the stored ETag equals <paramref name="etag"/>.
    /// A lost race is <see cref="SaveOutcome.Conflict"/>, never an exception.
    /// </summary>
    ValueTask<SaveOutcome> TrySaveAsync(string key, ReadOnlyMemory<byte> value, string? etag, TimeSpan? timeToLive, CancellationToken cancellationToken);

    /// <summary>Unconditional (last-write-wins) write.</summary>
    ValueTask SaveAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? timeToLive, CancellationToken cancellationToken);

    /// <summary>Deletes the key when its ETag still equals <paramref name="etag"/> (any ETag when null).</summary>
    ValueTask<bool> TryDeleteAsync(string key, string? etag, CancellationToken cancellationToken);
}
