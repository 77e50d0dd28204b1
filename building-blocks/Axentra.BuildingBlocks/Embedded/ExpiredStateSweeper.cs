using Microsoft.Extensions.Hosting;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>Removes expired state rows (dedupe claims past their window) every few minutes.</summary>
internal sealed class ExpiredStateSweeper(SqliteStateStore store, TimeProvider timeProvider) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(5), timeProvider);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await store.SweepExpiredAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (BackendUnavailableException)
            {
                // The next tick tries again; expired rows are invisible meanwhile.
            }
        }
    }
}
