using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// Copies the embedded database's WAL back into the database file on a connection and thread of its own, shortly
/// after commits, so the writer loop never pauses for a checkpoint (and the fsync that comes with it).
/// </summary>
/// <remarks>
/// PASSIVE checkpoints never block the writer or readers. SQLite restarts the WAL from its beginning only when the
/// writer begins a transaction with everything copied, so the writer copies the last few commits itself after
/// each checkpoint that caught up (<see cref="TakeCaughtUp"/>). Durability does not depend on checkpoints (a committed write is in the WAL), so a
/// checkpoint that fails or lags only lets the WAL grow until the writer's own automatic checkpoint
/// (<see cref="BackstopPages"/>) does the work instead.
/// </remarks>
internal sealed class WalCheckpointer : IAsyncDisposable
{
    /// <summary>WAL pages (4 KiB) at which the writer checkpoints by itself: 64 MiB.</summary>
    public const int BackstopPages = 16_384;

    /// <summary>Pause between checkpoints while commits keep coming: batches the copying, bounds its CPU.</summary>
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private readonly SqliteConnection _connection;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _commits = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private int _caughtUp;

    public WalCheckpointer(string connectionString, ILogger logger)
    {
        _logger = logger;
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        _loop = Task.Factory.StartNew(Run, TaskCreationOptions.LongRunning);
    }

    /// <summary>
    /// True once after each checkpoint that copied the whole WAL as it then was. The WAL starts over from its
    /// beginning only when the writer begins a transaction with nothing left to copy, which under a steady stream
    /// of commits never happens by itself: the writer has always appended more since. So the writer then copies that
    /// small remainder itself (<see cref="EmbeddedDatabase"/>), and the WAL stays a fraction of a second of writes
    /// long instead of growing to the backstop, where a checkpoint inside a commit stalled every write for 40-60 ms.
    /// </summary>
    public bool TakeCaughtUp() => Interlocked.Exchange(ref _caughtUp, 0) == 1;

    /// <summary>Called after each commit: there is something to checkpoint.</summary>
    public void Nudge()
    {
        if (_commits.CurrentCount == 0)
        {
            try
            {
                _commits.Release();
            }
            catch (SemaphoreFullException)
            {
                // another commit nudged first; one pending checkpoint is enough
            }
        }
    }

    private void Run()
    {
        using var checkpoint = _connection.CreateCommand();
        checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        var failing = false;
        try
        {
            while (true)
            {
                _commits.Wait(_stopping.Token);
                try
                {
                    using (var result = checkpoint.ExecuteReader())
                    {
                        // (busy, frames in the WAL, frames copied): all copied means the writer can finish the job.
                        if (result.Read() && result.GetInt64(0) == 0 && result.GetInt64(1) > 0 && result.GetInt64(1) == result.GetInt64(2))
                        {
                            Volatile.Write(ref _caughtUp, 1);
                        }
                    }

                    failing = false;
                }
                catch (SqliteException ex) when (!failing)
                {
                    failing = true; // logged once per run of failures; the writer's backstop keeps the WAL bounded
                    _logger.LogWarning(ex, "Background WAL checkpoint failed; the writer will checkpoint by itself");
                }
                catch (SqliteException)
                {
                }

                _stopping.Token.WaitHandle.WaitOne(Interval);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _commits.Dispose();
    }
}
