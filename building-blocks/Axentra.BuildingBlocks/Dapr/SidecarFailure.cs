using Dapr;

namespace Axentra.BuildingBlocks.Dapr;

/// <summary>Which exceptions from DaprClient mean "the sidecar or its component failed".</summary>
internal static class SidecarFailure
{
    /// <summary>
    /// A <see cref="DaprException"/>, or an <see cref="OperationCanceledException"/> the caller did not ask for:
    /// DaprClient's channel throws OperationCanceledException for a gRPC <c>DeadlineExceeded</c> answer too
    /// (<c>ThrowOperationCanceledOnCancellation</c>, which DaprClientBuilder turns on), and a sidecar or component
    /// timeout must read as an outage, not as the request being cancelled.
    /// </summary>
    public static bool Is(Exception exception, CancellationToken cancellationToken) =>
        exception is DaprException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested);
}
