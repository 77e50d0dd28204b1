using System.Collections.Concurrent;
using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.Registry;

namespace Axentra.Intake.Registration;

/// <summary>
/// Counts redeliveries per event in memory and adds them to the events' registry records about once a second.
/// Aggregating first means a burst of 500 redeliveries is one read-modify-write on the record, not 500 racing
/// ones, and counting never slows or fails a webhook answer. A crash loses at most the last second's counts.
/// </summary>
public sealed class DuplicateTally
{
    private readonly ConcurrentDictionary<string, (long Count, DateTimeOffset LastAt)> _pending = new(StringComparer.Ordinal);

    public void Count(string eventId, DateTimeOffset at) =>
        _pending.AddOrUpdate(eventId, (1, at), (_, current) => (current.Count + 1, at > current.LastAt ? at : current.LastAt));

    internal async Task FlushAsync(EventRegistry registry, CancellationToken cancellationToken)
    {
        foreach (var eventId in _pending.Keys)
        {
            if (!_pending.TryRemove(eventId, out var tally))
            {
                continue;
            }

            var written = false;
            try
            {
                written = await registry.AddDuplicatesAsync(eventId, tally.Count, tally.LastAt, cancellationToken).ConfigureAwait(false);
            }
            catch (BackendUnavailableException)
            {
            }

            if (!written)
            {
                _pending.AddOrUpdate(eventId, tally, (_, current) => (current.Count + tally.Count, current.LastAt > tally.LastAt ? current.LastAt : tally.LastAt));
            }
        }
    }
}

internal sealed class DuplicateTallyFlusher(DuplicateTally tally, EventRegistry registry, TimeProvider timeProvider) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await tally.FlushAsync(registry, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }

        using var last = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await tally.FlushAsync(registry, last.Token).ConfigureAwait(false);
    }
}
