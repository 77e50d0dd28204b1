using System.Buffers.Binary;
using Axentra.BuildingBlocks.Embedded;
using Axentra.BuildingBlocks.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Axentra.BuildingBlocks.Tests.State;

/// <summary>
/// Under a steady stream of commits SQLite never starts the WAL over by itself: the background checkpointer has to
/// catch up and the writer finish the copy (WalCheckpointer). Without that the WAL grows to the writer's backstop.
/// </summary>
public sealed class WalRestartTests : IDisposable
{
    private const int RestartPages = 64;
    private const int Rows = 100 * RestartPages; // one row per page: many times the restart length
    private const int InFlight = 32;
    private static readonly TimeSpan WorkPerWrite = TimeSpan.FromMicroseconds(150);
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Continuous_writes_start_the_wal_over_once_it_reaches_the_restart_length()
    {
        var path = Path.Combine(_directory.Path, "axentra.db");
        var database = new EmbeddedDatabase(path, synchronousFull: false, NullLogger<EmbeddedDatabase>.Instance, RestartPages);
        await using (database)
        {
            await database.WriteAsync(c => database.Prepared(c, "CREATE TABLE b (id INTEGER PRIMARY KEY, v BLOB NOT NULL)").ExecuteNonQuery(), Ct);
            var value = new byte[3_000]; // one 4 KiB leaf page per row
            var writes = new List<Task>(InFlight);
            for (var row = 0; row < Rows; row++)
            {
                writes.Add(database.WriteStatementAsync(c =>
                {
                    // The writer never idles (writes are always waiting) but pages come at a pace a checkpoint can
                    // follow, as under a steady load: idle moments would let SQLite start the WAL over by itself.
                    var busy = System.Diagnostics.Stopwatch.StartNew();
                    while (busy.Elapsed < WorkPerWrite)
                    {
                        Thread.SpinWait(20);
                    }

                    var insert = database.Prepared(c, "INSERT INTO b (v) VALUES ($v)");
                    insert.Parameters.AddWithValue("$v", value);
                    return insert.ExecuteNonQuery();
                }, Ct));
                if (writes.Count == InFlight)
                {
                    await Task.WhenAny(writes);
                    writes.RemoveAll(w => w.IsCompleted);
                }
            }

            await Task.WhenAll(writes);

            var wal = await File.ReadAllBytesAsync(path + "-wal", Ct);
            var restarts = BinaryPrimitives.ReadUInt32BigEndian(wal.AsSpan(12, 4)); // the WAL header's checkpoint sequence
            var pages = (wal.Length - 32) / (24 + 4096);
            // Measured: about 95 restarts and a WAL of 140-210 pages; without the writer finishing the copy, 2-3 restarts
            // (moments the writer happened to begin with everything copied) and 2,800-4,800 pages. The restart count is
            // what tells the two apart. The file's length is its longest moment, and one stall of the checkpoint thread
            // on a busy machine stretches that: 1,078 pages when CI ran the test assemblies side by side on two cores.
            // So the length is only held to a quarter of what was written, which a WAL that never started over exceeds,
            // and the restarts to 10, which a checkpoint thread starved by other test processes still reaches.
            Assert.True(restarts >= 10, $"the WAL started over {restarts} times while {Rows} pages were written");
            Assert.True(pages <= Rows / 4, $"the WAL grew to {pages} pages for {Rows} rows; it starts over from {RestartPages}");
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;
}
