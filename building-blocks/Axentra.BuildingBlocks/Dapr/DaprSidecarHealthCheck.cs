using Dapr;
using Dapr.Client;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Axentra.BuildingBlocks.Dapr;

/// <summary>
/// Ready when the sidecar answers on its gRPC API and has loaded the components this service needs.
/// (DaprClient.CheckHealthAsync would ask the sidecar's HTTP port instead, a second channel to configure.)
/// </summary>
public sealed class DaprSidecarHealthCheck(DaprClient dapr, IReadOnlyCollection<string> requiredComponents) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var metadata = await dapr.GetMetadataAsync(cancellationToken).ConfigureAwait(false);
            var loaded = metadata.Components.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            var missing = requiredComponents.Where(c => !loaded.Contains(c)).ToList();
            return missing.Count == 0
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"the sidecar has not loaded: {string.Join(", ", missing)}");
        }
        catch (Exception ex) when (ex is DaprException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("the Dapr sidecar does not answer", ex);
        }
    }
}
