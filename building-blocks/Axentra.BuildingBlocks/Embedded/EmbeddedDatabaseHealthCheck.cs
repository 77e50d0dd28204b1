using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>Ready when the embedded database answers a query and takes a write.</summary>
public sealed class EmbeddedDatabaseHealthCheck(EmbeddedDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await database.WriteAsync(connection =>
            {
                EmbeddedDatabase.Execute(connection, "SELECT 1");
                return 0;
            }, cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy();
        }
        catch (BackendUnavailableException ex)
        {
            return HealthCheckResult.Unhealthy("embedded database unavailable", ex);
        }
    }
}
