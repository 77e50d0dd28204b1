using System.Globalization;
using Axentra.BuildingBlocks.State;
using Dapr;
using Dapr.Client;
using Grpc.Core;

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
/// The same re-read settles an <c>Aborted</c> ETag write, which an AWS SDK retry of a committed PutItem also produces.
/// Callers that rely on this put something unique (a claim token, a version) in the value: equal bytes are taken
/// as our own write.
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
        catch (Exception ex) when (SidecarFailure.Is(ex, cancellationToken))
        {
            throw Unavailable("get", key, ex);
        }
    }

    public async ValueTask<SaveOutcome> TrySaveAsync(string key, ReadOnlyMemory<byte> value, string? etag, TimeSpan? timeToLive, CancellationToken cancellationToken)
    {
        Exception? failure = null;
        try
        {
            if (etag is null)
            {
                await dapr.SaveByteStateAsync(storeName, key, value, FirstWrite, Metadata(timeToLive), cancellationToken).ConfigureAwait(false);
                return SaveOutcome.Saved;
            }

            // A mismatched ETag comes back as gRPC Aborted, which TrySave turns into false. That is usually another
            // writer, but it is also what the AWS SDK's own retry of a PutItem that had already committed sees.
            if (await dapr.TrySaveByteStateAsync(storeName, key, value, etag, FirstWrite, Metadata(timeToLive), cancellationToken).ConfigureAwait(false))
            {
                return SaveOutcome.Saved;
            }
        }
        catch (Exception ex) when (SidecarFailure.Is(ex, cancellationToken))
        {
            failure = ex;
        }

        return await ResolveFailedWriteAsync(key, value, etag, failure, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Re-reads the key to tell a landed write, a lost race and an outage apart (see the remarks).</summary>
    private async ValueTask<SaveOutcome> ResolveFailedWriteAsync(string key, ReadOnlyMemory<byte> value, string? etag, Exception? failure, CancellationToken cancellationToken)
    {
        var current = await GetAsync(key, cancellationToken).ConfigureAwait(false);
        if (current is not null && current.Value.Span.SequenceEqual(value.Span))
        {
            return SaveOutcome.Saved;
        }

        if (failure is null || (etag is null ? current is not null : current is null || current.ETag != etag))
        {
            return SaveOutcome.Conflict;
        }

        // The condition failed yet the key reads as absent: an entry past its TTL that DynamoDB has not deleted yet
        // (it deletes lazily, within days) still fails attribute_not_exists, while Get already hides it.
        if (etag is null && IsConditionFailure(failure))
        {
            throw new BackendUnavailableException($"state store {storeName}",
                $"first-write of '{key}' refused by an expired entry the store has not deleted yet", failure);
        }

        throw Unavailable("save", key, failure);
    }

    public async ValueTask SaveAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? timeToLive, CancellationToken cancellationToken)
    {
        try
        {
            await dapr.SaveByteStateAsync(storeName, key, value, LastWrite, Metadata(timeToLive), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (SidecarFailure.Is(ex, cancellationToken))
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
        catch (Exception ex) when (SidecarFailure.Is(ex, cancellationToken))
        {
            throw Unavailable("delete", key, ex);
        }
    }

    private static bool IsConditionFailure(Exception ex) =>
        ex.InnerException is RpcException rpc && rpc.Status.Detail.Contains("ConditionalCheckFailed", StringComparison.Ordinal);

    private static Dictionary<string, string>? Metadata(TimeSpan? timeToLive) =>
        timeToLive is { } ttl
            ? new Dictionary<string, string> { ["ttlInSeconds"] = ((long)Math.Ceiling(ttl.TotalSeconds)).ToString(CultureInfo.InvariantCulture) }
            : null;

    private BackendUnavailableException Unavailable(string operation, string key, Exception ex) =>
        new($"state store {storeName}", $"{operation} of '{key}' failed", ex);
}
