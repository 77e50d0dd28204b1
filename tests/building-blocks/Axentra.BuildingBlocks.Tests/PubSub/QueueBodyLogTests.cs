using System.Text;
using Axentra.BuildingBlocks.Embedded;
using Axentra.BuildingBlocks.Tests.Support;

namespace Axentra.BuildingBlocks.Tests.PubSub;

/// <summary>The local queue's body segments on their own: what a commit, a rollback, a restart and a release leave.</summary>
public sealed class QueueBodyLogTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string Segments => Path.Combine(_directory.Path, "axentra.db-queue");

    private string[] Files() => [.. Directory.GetFiles(Segments).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    [Fact]
    public void A_body_is_read_back_once_its_commit_is_written_and_a_rolled_back_commit_is_written_over()
    {
        using var log = new QueueBodyLog(Segments, syncWrites: false);

        var lost = log.Append("rolled back"u8);
        log.BeforeCommit(); // written to the file, then its transaction did not commit
        log.AfterRollback();
        var kept = log.Append("kept"u8);
        var next = log.Append("and the next"u8);
        log.BeforeCommit();
        log.AfterCommit();

        Assert.Equal(lost, kept); // the rolled-back body's place is taken by the next commit's
        Assert.Equal("kept", Text(log.Read(kept.Segment, kept.Offset)));
        Assert.Equal("and the next", Text(log.Read(next.Segment, next.Offset)));
    }

    [Fact]
    public void Every_start_writes_a_segment_of_its_own_and_reads_the_earlier_ones()
    {
        (long Segment, long Offset) first;
        using (var log = new QueueBodyLog(Segments, syncWrites: true))
        {
            first = Commit(log, "before the restart"u8);
        }

        using var restarted = new QueueBodyLog(Segments, syncWrites: false);

        Assert.Equal(first.Segment + 1, restarted.CurrentSegment);
        Assert.Equal("before the restart", Text(restarted.Read(first.Segment, first.Offset)));
    }

    [Fact]
    public void A_damaged_or_missing_body_reads_as_null_not_as_garbage()
    {
        using var log = new QueueBodyLog(Segments, syncWrites: false);
        var rolledBack = log.Append("{\"event\":1}"u8);
        log.Append("never committed"u8);
        log.BeforeCommit();
        log.AfterRollback(); // written to the file, but its commit failed: past the segment's committed end

        var damaged = Commit(log, "{\"event\":2}"u8);
        using (var file = File.OpenHandle(Path.Combine(Segments, Files()[0]), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            RandomAccess.Write(file, "X"u8, damaged.Offset + 8 + 3); // a byte of the body, past its 8-byte frame header
        }

        Assert.Equal(rolledBack, damaged); // the same place: the rolled-back commit's bytes were written over
        Assert.Null(log.Read(damaged.Segment, damaged.Offset));
        Assert.Null(log.Read(damaged.Segment, 1_000_000));
        Assert.Null(log.Read(damaged.Segment + 1, 0)); // no such segment
    }

    [Fact]
    public void A_frame_of_zeros_is_not_an_empty_body()
    {
        using var log = new QueueBodyLog(Segments, syncWrites: false);
        var at = Commit(log, ""u8);
        Assert.Empty(Assert.IsType<byte[]>(log.Read(at.Segment, at.Offset)));

        using (var file = File.OpenHandle(Path.Combine(Segments, Files()[0]), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            RandomAccess.Write(file, new byte[8], at.Offset);
        }

        Assert.Null(log.Read(at.Segment, at.Offset));
    }

    [Fact]
    public void A_full_segment_gets_a_new_one_after_it_and_only_segments_before_the_oldest_needed_are_deleted()
    {
        using var log = new QueueBodyLog(Segments, syncWrites: false, segmentBytes: 32); // every commit fills one
        var bodies = Enumerable.Range(0, 6).Select(i =>
        {
            var at = Commit(log, Encoding.UTF8.GetBytes($"body number {i} of six, about forty bytes"));
            return at;
        }).ToList();

        Assert.Equal(6, bodies.Select(b => b.Segment).Distinct().Count());
        Assert.Equal(7, Files().Length); // and the one written to now, still empty
        Assert.True(log.HasReleasable);

        log.ReleaseBefore(bodies[3].Segment);

        Assert.Equal(4, Files().Length);
        Assert.Equal("body number 3 of six, about forty bytes", Text(log.Read(bodies[3].Segment, bodies[3].Offset)));
        log.ReleaseBefore(log.CurrentSegment);
        Assert.Single(Files());
        Assert.False(log.HasReleasable);
    }

    [Fact]
    public void A_segment_another_handle_has_open_is_kept_until_it_is_closed()
    {
        (long Segment, long Offset) written;
        using (var earlier = new QueueBodyLog(Segments, syncWrites: false))
        {
            written = Commit(earlier, "from the other process"u8);
        }

        using var log = new QueueBodyLog(Segments, syncWrites: false);
        var elsewhere = File.OpenHandle(Path.Combine(Segments, Files()[0]), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);

        log.ReleaseBefore(log.CurrentSegment);
        Assert.Equal(2, Files().Length);
        Assert.True(log.HasReleasable);

        elsewhere.Dispose();
        log.ReleaseBefore(log.CurrentSegment);
        Assert.Single(Files());
        Assert.Null(log.Read(written.Segment, written.Offset));
    }

    [Fact]
    public void The_checksum_is_crc32c()
    {
        // The check value of CRC-32C (RFC 3720, appendix B.4): "123456789" -> 0xE3069283.
        Assert.Equal(0xE3069283u, QueueBodyLog.Crc32C("123456789"u8));
    }

    [Fact]
    public async Task A_flush_beside_a_rotation_and_a_release_never_fsyncs_a_handle_another_flush_closed()
    {
        using var log = new QueueBodyLog(Segments, syncWrites: false, segmentBytes: 1); // every commit rotates
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        Exception? failure = null;
        var checkpointer = Task.Run(() =>
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    log.FlushRetired(); // WalCheckpointer's beforePass
                }
            }
            catch (Exception ex)
            {
                failure = ex;
                stop.Cancel();
            }
        }, TestContext.Current.CancellationToken);
        var writer = Task.Run(() =>
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    for (var i = 0; i < 2; i++)
                    {
                        Commit(log, "a body"u8); // retires the segment
                    }

                    log.ReleaseBefore(log.CurrentSegment); // the dispatcher's: flushes (closing retired handles), then deletes
                }
            }
            catch (Exception ex)
            {
                failure ??= ex;
                stop.Cancel();
            }
        }, TestContext.Current.CancellationToken);

        await Task.WhenAll(checkpointer, writer);
        Assert.Null(failure);
    }

    /// <summary>One body in a commit of its own, as the writer loop runs one: appended, written, committed.</summary>
    private static (long Segment, long Offset) Commit(QueueBodyLog log, ReadOnlySpan<byte> body)
    {
        var at = log.Append(body);
        log.BeforeCommit();
        log.AfterCommit();
        return at;
    }

    private static string? Text(byte[]? body) => body is null ? null : Encoding.UTF8.GetString(body);
}
