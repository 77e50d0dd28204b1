using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// Copies the embedded database's WAL back into the database file on a connection and thread of its own, pass
/// after pass while commits keep coming, so the writer loop never pauses for a checkpoint (and the fsync that comes
/// with it).
/// </summary>
/// <remarks>
/// PASSIVE checkpoints never block the writer or readers. SQLite restarts the WAL from its beginning only when the
/// writer begins a transaction with everything copied, so once the WAL is <see cref="RestartPages"/> long the
/// writer copies the last few commits itself (<see cref="TakeCaughtUp"/>). Durability does not depend on
/// checkpoints (a committed write is in the WAL), so a checkpoint that fails or lags only lets the WAL grow until
/// the writer's own automatic checkpoint (<see cref="BackstopPages"/>) does the work instead.
/// <para>
/// While the WAL is shorter than that, a pass starts at most every <see cref="PassInterval"/>: a page that several
/// commits changed in the meantime (the right edges and interior pages of every b-tree) is copied once, and the WAL
/// and the database file are fsynced once per interval instead of once per pass. From <see cref="RestartPages"/>
/// on, passes run back to back until one is short, so the writer's share at the restart stays a few milliseconds
/// of writes. Pacing every pass, without that exception, left passes too long for the writer ever to finish
/// one: the WAL grew to 40,000 pages and more, and the commit just before each restart took 25-70 ms
/// (docs/performance.md, seventh round).
/// </para>
/// </remarks>
internal sealed class WalCheckpointer : IAsyncDisposable
{
    /// <summary>WAL pages (4 KiB) at which the writer checkpoints by itself: 256 MiB.</summary>
    public const int BackstopPages = 65_536;

    /// <summary>
    /// WAL pages (4 KiB) from which the WAL is started over: 64 MiB, about half a second of writes at full load.
    /// Each restart pauses the writer for 15-20 ms on this machine (<see cref="TakeCaughtUp"/>), so the WAL is let
    /// grow to this size first: restarting whenever a checkpoint caught up paused it 10-13 times a second.
    /// </summary>
    public const int RestartPages = 16_384;

    /// <summary>New frames a pass may have copied and still count as short: 1 MiB, a few milliseconds of writes at full load.</summary>
    private const long ShortPassFrames = 256;

    /// <summary>
    /// The least time from one pass to the next while the WAL is shorter than <see cref="RestartPages"/>. Intake
    /// alone at 5,000 webhooks/s: 10-25 ms cost about 15 % less CPU per webhook than passes back to back, with a
    /// p99 of 5-16 ms (4-11 ms back to back); 50 ms gave 16 ms with late sends (docs/performance.md, seventh round).
    /// </summary>
    public static readonly TimeSpan PassInterval = TimeSpan.FromMilliseconds(20);

    private readonly SqliteConnection _connection;
    private readonly int _restartPages;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _commits = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private readonly Action _beforePass;
    private int _caughtUp;

    /// <param name="connectionString">The database's.</param>
    /// <param name="restartPages">WAL length (pages) from which it is started over: <see cref="RestartPages"/> but in tests.</param>
    /// <param name="logger">Where failed checkpoints go.</param>
    /// <param name="beforePass">
    /// Runs before each pass: the queue's body segments the writer has moved past are fsynced and closed there
    /// (<see cref="QueueBodyLog.FlushRetired"/>), off the writer's thread.
    /// </param>
    public WalCheckpointer(string connectionString, int restartPages, ILogger logger, Action beforePass)
    {
        _beforePass = beforePass;
        _logger = logger;
        _restartPages = restartPages;
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        _loop = Task.Factory.StartNew(Run, TaskCreationOptions.LongRunning);
    }

    /// <summary>
    /// True once after a short checkpoint that copied the whole WAL as it then was, once the WAL is
    /// <see cref="RestartPages"/> long. The WAL starts over from its beginning only when the writer begins a
    /// transaction with nothing left to copy, which under a steady stream of commits never happens by itself: the
    /// writer has always appended more since. So the writer then copies that remainder itself
    /// (<see cref="EmbeddedDatabase"/>), pausing every write while it does (the copy and an fsync of the database
    /// file). Checkpoints run back to back until one is short, so the remainder is a few milliseconds of writes.
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
        long copiedBefore = 0;
        try
        {
            while (true)
            {
                _commits.Wait(_stopping.Token);
                long walFrames;
                try
                {
                    _beforePass();
                    using (var result = checkpoint.ExecuteReader())
                    {
                        // (busy, frames in the WAL, frames copied). Once the WAL is long enough to start over and a
                        // pass copied all it saw, the writer finishes the job, but only after a short pass: its share
                        // is what was committed while the pass ran, and it copies and fsyncs that with every write
                        // waiting.
                        walFrames = result.Read() ? result.GetInt64(1) : 0;
                        if (walFrames > 0 && result.GetInt64(0) == 0 && walFrames == result.GetInt64(2))
                        {
                            var fresh = walFrames >= copiedBefore ? walFrames - copiedBefore : walFrames; // fewer: the WAL started over
                            copiedBefore = walFrames;
                            if (walFrames >= _restartPages && fresh <= ShortPassFrames)
                            {
                                Volatile.Write(ref _caughtUp, 1);
                            }
                        }
                    }

                    failing = false;
                    if (walFrames < _restartPages)
                    {
                        _stopping.Token.WaitHandle.WaitOne(PassInterval);
                    }
                }
                catch (Exception ex) when (ex is SqliteException or IOException && !failing)
                {
                    failing = true; // logged once per run of failures; the writer's backstop keeps the WAL bounded
                    _logger.LogWarning(ex, "Background WAL checkpoint (or the fsync of a finished queue body segment before it) failed; the writer will checkpoint by itself");
                }
                catch (Exception ex) when (ex is SqliteException or IOException)
                {
                }
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
