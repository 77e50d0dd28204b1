using System.Globalization;
using Axentra.BuildingBlocks.State;
using Dapr;
using Dapr.Client;

namespace Axentra.BuildingBlocks.Dapr;

/// <summary>
/// <see cref="IStateStore"/> over a Dapr state component (state.aws.dynamodb in AWS, Redis locally).
/// </summary>
/// <remarks>
/// state.aws.dynamodb reports a failed first-write condition (<c>ConditionalCheckFailedException</c>) as a plain
/// error, which reaches the client as gRPC <c>Internal</c> / <see cref="DaprException"/>: exactly what an outage
/// looks like. And a sidecar resiliency retry can replay a conditional write that already succeeded, failing its
/// own condition. So on any failure this adapter re-reads the key: our own bytes there mean the write landed,
/// someone else's mean a conflict, and only an unchanged key is reported as the backend being unavailable.
/// Callers that rely on this put something unique (a claim token) in the value.
/// </remarks>
public sealed class DaprStateStore(DaprClient dapr, string storeName) : IStateStore
{
    private static readonly StateOptions FirstWrite = new() { Concurrency = ConcurrencyMode.FirstWrite, Consistency = ConsistencyMode.Strong };
    private static readonly StateOptions LastWrite = new() { Concurrency = ConcurrencyMode.LastWrite, Consistency = ConsistencyMode.Strong };

    public string StoreName => storeName;

    public async ValueTask<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var (value, etag) = await dapr.GetByteStateAndETagAsync(storeName, key, ConsistencyMode.Strong, cancellationToken: cancellationToken).ConfigureAwait(false);
            return value.IsEmpty && string.IsNullOrEmpty(etag) ? null : new StateEntry(value, etag ?? string.Empty);
        }
        catch (DaprException ex)
        {
            throw Unavailable("get", key, ex);
        }
    }

    public async ValueTask<SaveOutcome> TrySaveAsync(string key, ReadOnlyMemory<byte> value, string? etag, TimeSpan? timeToLive, CancellationToken cancellationToken)
    {
        try
        {
            if (etag is null)
            {
                await dapr.SaveByteStateAsync(storeName, key, value, FirstWrite, Metadata(timeToLive), cancellationToken).ConfigureAwait(false);
                return SaveOutcome.Saved;
            }

            // A mismatched ETag comes back as gRPC Aborted, which TrySave turns into false.
            var saved = await dapr.TrySaveByteStateAsync(storeName, key, value, etag, FirstWrite, Metadata(timeToLive), cancellationToken).ConfigureAwait(false);
            return saved ? SaveOutcome.Saved : SaveOutcome.Conflict;
        }
        catch (DaprException ex) when (!cancellationToken.IsCancellationRequested)
        {
            var current = await GetAsync(key, cancellationToken).ConfigureAwait(false);
            if (current is not null && current.Value.Span.SequenceEqual(value.Span))
            {
                return SaveOutcome.Saved;
            }

            var conditionFailed = etag is null ? current is not null : current is null || current.ETag != etag;
            return conditionFailed ? SaveOutcome.Conflict : throw Unavailable("save", key, ex);
        }
    }

    public async ValueTask SaveAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? timeToLive, CancellationToken cancellationToken)
    {
        try
        {
            await dapr.SaveByteStateAsync(storeName, key, value, LastWrite, Metadata(timeToLive), cancellationToken).ConfigureAwait(false);
        }
        catch (DaprException ex)
        {
            throw Unavailable("save", key, ex);
        }
    }

    public async ValueTask<bool> TryDeleteAsync(string key, string? etag, CancellationToken cancellationToken)
    {
        try
        {
            if (etag is null)
            {
                await dapr.DeleteStateAsync(storeName, key, LastWrite, cancellationToken: cancellationToken).ConfigureAwait(false);
                return true;
            }

            return await dapr.TryDeleteStateAsync(storeName, key, etag, FirstWrite, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (DaprException ex)
        {
            throw Unavailable("delete", key, ex);
        }
    }

    private static Dictionary<string, string>? Metadata(TimeSpan? timeToLive) =>
        timeToLive is { } ttl
            ? new Dictionary<string, string> { ["ttlInSeconds"] = ((long)Math.Ceiling(ttl.TotalSeconds)).ToString(CultureInfo.InvariantCulture) }
            : null;

    private BackendUnavailableException Unavailable(string operation, string key, DaprException ex) =>
        new($"state store {storeName}", $"{operation} of '{key}' failed", ex);
}
