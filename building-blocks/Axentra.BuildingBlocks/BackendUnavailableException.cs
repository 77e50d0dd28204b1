namespace Axentra.BuildingBlocks;

/// <summary>
/// A backend (state store, pub/sub, bucket) could not do what was asked. Callers at the HTTP edge answer 503
/// with <c>Retry-After</c>; message handlers ask for redelivery. Expected outcomes such as a first-write conflict
/// are never reported this way.
/// </summary>
public sealed class BackendUnavailableException : Exception
{
    public BackendUnavailableException(string backend, string message, Exception? innerException = null)
        : base($"{backend}: {message}", innerException)
    {
        Backend = backend;
    }

    public string Backend { get; }

    /// <summary>What a message handler that asks for redelivery because of this gives as its reason (<see cref="PubSub.DeliveryContext.RetryReason"/>).</summary>
    public string RetryReason => $"backend unavailable: {Message}";
}
