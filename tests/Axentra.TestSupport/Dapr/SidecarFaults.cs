using System.Collections.Concurrent;
using Grpc.Core;

namespace Axentra.TestSupport.Dapr;

/// <summary>One injected failure: the status the sidecar answers with, and whether the operation ran first.</summary>
/// <param name="Status">What the client sees.</param>
/// <param name="AfterApplying">
/// Apply the operation, then report the failure: what a client-side timeout after the commit looks like, or a sidecar
/// resiliency retry (or AWS SDK retry) of a conditional write that had already succeeded.
/// </param>
public sealed record InjectedFault(Status Status, bool AfterApplying);

/// <summary>
/// Fault injection per proto method: queue failures for the next N calls of a method. Calls take faults in arrival
/// order; a method with nothing queued behaves normally.
/// </summary>
public sealed class SidecarFaults
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<InjectedFault>> _queues = new(StringComparer.Ordinal);

    /// <summary>Makes the next <paramref name="times"/> calls of <paramref name="method"/> fail with <paramref name="code"/>.</summary>
    public void FailNext(string method, StatusCode code, int times = 1, string? message = null, bool afterApplying = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(times);
        var queue = _queues.GetOrAdd(method, _ => new ConcurrentQueue<InjectedFault>());
        for (var i = 0; i < times; i++)
        {
            queue.Enqueue(new InjectedFault(new Status(code, message ?? $"injected {code} on {method}"), afterApplying));
        }
    }

    /// <summary>
    /// The next <c>SaveState</c> is applied, then answered the way state.aws.dynamodb answers the replay of a first-write
    /// that already committed: <c>Internal</c> with a ConditionalCheckFailedException message.
    /// </summary>
    public void CommitFirstWriteThenReportConditionFailure(string storeName) =>
        FailNext(DaprMethods.SaveState, StatusCode.Internal, message: DynamoDbMessages.SaveFailed(storeName, DynamoDbMessages.PutItemConditionFailed()), afterApplying: true);

    /// <summary>Drops every queued fault.</summary>
    public void Clear() => _queues.Clear();

    internal InjectedFault? Take(string method) =>
        _queues.TryGetValue(method, out var queue) && queue.TryDequeue(out var fault) ? fault : null;
}
