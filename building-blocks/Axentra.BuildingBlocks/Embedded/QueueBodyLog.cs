using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using Microsoft.Win32.SafeHandles;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// The local queue's message bodies, appended to segment files beside the database (<c>axentra.db-queue/</c>)
/// instead of stored in the queue's rows: a row keeps the body's segment and offset. A 2 KiB webhook's envelope is
/// about 3.7 KB, a database page of its own that the WAL wrote and the checkpointer copied again; here it is written
/// once, at the end of a file (docs/performance.md, tenth round).
/// </summary>
/// <remarks>
/// <para>
/// The writer loop appends a commit's bodies to a buffer while its statements run (<see cref="Append"/>), writes the
/// buffer at the end of the segment just before the transaction commits (<see cref="BeforeCommit"/>), and counts it
/// as part of the segment only once the commit succeeded (<see cref="AfterCommit"/>). A row is therefore committed
/// only after its body was written: a killed process finds every committed row's body in the file (the operating
/// system's page cache survives it). Bytes of a batch that did not commit lie past the segment's end and are
/// overwritten by the next commit. With <c>synchronousFull</c> the segment is also fsynced before each commit, so
/// power loss cannot leave a committed row without its body. Otherwise the segment written to is left to the
/// kernel's writeback, as bucket objects are, and a segment the writer has moved past is fsynced and closed off the
/// writer's thread, by the checkpointer before a pass or by a release (<see cref="FlushRetired"/>). An fsync of the segment being appended to, before
/// every pass, stalled the appends behind it: at 5,000 webhooks/s the p99 went from 4 ms to 14-16 ms
/// (docs/performance.md, tenth round).
/// </para>
/// <para>
/// Each body is framed by its length and CRC-32C. A body that a power loss kept from the disk is found damaged on
/// read (<see cref="Read"/> returns null), not delivered as garbage.
/// </para>
/// <para>
/// Every start writes a new segment, numbered after every segment on disk and every one a row refers to (so a
/// segment file that went missing never gets its number reused under rows that point into it), and a segment gets a
/// new one after it when it reaches its size; if that creation fails, the commit stands and the current segment
/// goes on. The segments before the oldest one a row refers to are deleted (<see cref="ReleaseBefore"/>; the
/// oldest comes from an index on the rows' segments, since another process on the data directory appends rows
/// pointing into its own segment between this one's), so one old message waiting for a retry keeps the segments
/// after its own too. A dead letter would hold its segment for as long as it is kept, so the dispatcher copies a
/// dead letter's body into its row, and a dead letter whose body was lost stops pointing at its segment.
/// </para>
/// <para>
/// Known limits: a segment open in another process is protected by .NET's advisory file locks, which
/// <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c> turns off and network file systems may not honour; without
/// <c>synchronousFull</c>, a segment may be deleted before the deletion of its rows reached the disk, so a power
/// loss can bring back rows of messages already delivered whose bodies are gone (dead-lettered as lost, a false
/// alarm); and the folder entry of a new segment is not fsynced (ext4, XFS and btrfs make it durable with the file).
/// </para>
/// </remarks>
internal sealed class QueueBodyLog : IDisposable
{
    /// <summary>A segment gets a new one after it from this size on: 64 MiB, about 17,000 webhooks.</summary>
    public const long DefaultSegmentBytes = 64L * 1024 * 1024;

    private const int HeaderBytes = 8; // length (int32), CRC-32C (uint32), little-endian
    private const string Extension = ".log";

    private readonly string _directory;
    private readonly long _segmentBytes;
    private readonly bool _syncWrites;
    private readonly ConcurrentDictionary<long, SafeFileHandle> _readers = new();
    private readonly ArrayBufferWriter<byte> _pending = new(64 * 1024);
    private readonly Lock _handles = new();
    private readonly Lock _releasing = new();
    private readonly List<SafeFileHandle> _retired = [];

    // The writer loop's: the segment written to, and how far its committed bodies go.
    private SafeFileHandle _writeHandle;
    private long _segment;
    private long _committedEnd;
    private bool _disposed;
    private long _releasedBefore; // every segment before it is deleted (under _releasing)

    /// <param name="directory">Where the segments are.</param>
    /// <param name="syncWrites">fsync each commit's bodies before it commits.</param>
    /// <param name="segmentBytes">Size from which a segment gets a new one after it.</param>
    /// <param name="newestReferenced">The newest segment a row refers to: a new segment is numbered after it even when its file is gone.</param>
    public QueueBodyLog(string directory, bool syncWrites, long segmentBytes = DefaultSegmentBytes, long newestReferenced = 0)
    {
        _directory = directory;
        _syncWrites = syncWrites;
        _segmentBytes = segmentBytes;
        Directory.CreateDirectory(directory);
        (_segment, _writeHandle) = CreateNext(newestReferenced);
    }

    /// <summary>The segment now written to; any row committed from now on refers to it or a later one.</summary>
    public long CurrentSegment => Volatile.Read(ref _segment);

    /// <summary>Whether a segment before <see cref="CurrentSegment"/> may still be on disk (then look for the oldest still needed).</summary>
    public bool HasReleasable => CurrentSegment > Volatile.Read(ref _releasedBefore);

    /// <summary>Adds <paramref name="body"/> to the commit being built; where it will be. Writer loop only.</summary>
    public (long Segment, long Offset) Append(ReadOnlySpan<byte> body)
    {
        var offset = _committedEnd + _pending.WrittenCount;
        var frame = _pending.GetSpan(HeaderBytes + body.Length);
        BinaryPrimitives.WriteInt32LittleEndian(frame, body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[4..], Checksum(frame[..4], body));
        body.CopyTo(frame[HeaderBytes..]);
        _pending.Advance(HeaderBytes + body.Length);
        return (_segment, offset);
    }

    /// <summary>Writes the commit's bodies (and fsyncs them with synchronousFull) before its transaction commits.</summary>
    public void BeforeCommit()
    {
        if (_pending.WrittenCount == 0)
        {
            return;
        }

        RandomAccess.Write(_writeHandle, _pending.WrittenSpan, _committedEnd);
        if (_syncWrites)
        {
            RandomAccess.FlushToDisk(_writeHandle);
        }
    }

    /// <summary>The commit succeeded: its bodies are part of the segment.</summary>
    public void AfterCommit()
    {
        if (_pending.WrittenCount == 0)
        {
            return;
        }

        _committedEnd += _pending.WrittenCount;
        _pending.ResetWrittenCount();
        if (_committedEnd >= _segmentBytes)
        {
            (long Segment, SafeFileHandle Handle) created;
            try
            {
                created = CreateNext(_segment);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return; // the commit happened: keep writing this segment, and try again after the next commit
            }

            var (next, handle) = created;
            lock (_handles)
            {
                _retired.Add(_writeHandle); // fsynced, then closed, by the next FlushRetired
                _writeHandle = handle;
            }

            _committedEnd = 0;
            Volatile.Write(ref _segment, next);
        }
    }

    /// <summary>The commit was rolled back: forget its bodies (the next commit writes over them).</summary>
    public void AfterRollback() => _pending.ResetWrittenCount();

    /// <summary>A body written by <see cref="Append"/>; null when it is missing or damaged. Any thread.</summary>
    public byte[]? Read(long segment, long offset)
    {
        if (segment <= 0)
        {
            return null; // a body already found lost (LocalQueueStatements.LoseBody)
        }

        if (!_readers.TryGetValue(segment, out var handle))
        {
            try
            {
                handle = File.OpenHandle(PathOf(segment), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (FileNotFoundException)
            {
                return null;
            }

            if (!_readers.TryAdd(segment, handle))
            {
                handle.Dispose(); // another reader opened it first; an extra handle would hold the segment's lock
                if (!_readers.TryGetValue(segment, out handle))
                {
                    return null; // and it is released already
                }
            }
        }

        try
        {
            return ReadFrame(handle, offset);
        }
        catch (ObjectDisposedException)
        {
            return null; // released while this read ran: the caller reads the row again (LocalPubSubDispatcher)
        }
    }

    private static byte[]? ReadFrame(SafeFileHandle handle, long offset)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (offset < 0 || RandomAccess.Read(handle, header, offset) != HeaderBytes)
        {
            return null;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length < 0 || length > RandomAccess.GetLength(handle) - offset - HeaderBytes)
        {
            return null;
        }

        var body = new byte[length];
        if (RandomAccess.Read(handle, body, offset + HeaderBytes) != length
            || Checksum(header[..4], body) != BinaryPrimitives.ReadUInt32LittleEndian(header[4..]))
        {
            return null;
        }

        return body;
    }

    /// <summary>
    /// Deletes the segments before <paramref name="oldestNeeded"/>: the oldest segment a row refers to, or
    /// <see cref="CurrentSegment"/> read in the same write as that query when none does. A segment another handle
    /// still has open is kept for a later call: another process on the same data directory (the <c>replay</c> command
    /// beside a running host) may be writing it. Every handle here takes a shared lock on its file (.NET does, for a
    /// share mode other than <see cref="FileShare.None"/>), and a segment is deleted only under an exclusive one.
    /// </summary>
    public void ReleaseBefore(long oldestNeeded)
    {
        lock (_releasing)
        {
            if (oldestNeeded <= _releasedBefore)
            {
                return;
            }

            FlushRetired(); // closes the handles of segments written to before, which would hold them otherwise
            var keptFrom = oldestNeeded;
            foreach (var segment in Segments())
            {
                if (segment >= oldestNeeded || segment >= CurrentSegment)
                {
                    continue;
                }

                if (_readers.TryRemove(segment, out var reader))
                {
                    reader.Dispose();
                }

                if (!TryDelete(segment))
                {
                    keptFrom = Math.Min(keptFrom, segment);
                }
            }

            Volatile.Write(ref _releasedBefore, keptFrom);
        }
    }

    private bool TryDelete(long segment)
    {
        var path = PathOf(segment);
        try
        {
            using var exclusive = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.None);
            File.Delete(path);
            return true;
        }
        catch (FileNotFoundException)
        {
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false; // open elsewhere (or not ours to delete now): a later call tries again
        }
    }

    /// <summary>
    /// fsyncs and closes the segments the writer has moved past (the checkpointer's, before each pass). The one written
    /// to is not fsynced here: see the remarks.
    /// </summary>
    public void FlushRetired()
    {
        SafeFileHandle[] retired;
        lock (_handles)
        {
            if (_disposed || _retired.Count == 0)
            {
                return;
            }

            retired = [.. _retired];
            _retired.Clear();
        }

        foreach (var handle in retired)
        {
            RandomAccess.FlushToDisk(handle);
            handle.Dispose();
        }
    }

    /// <summary>Closes every segment, fsyncing those written to first: a clean shutdown leaves nothing to the writeback.</summary>
    public void Dispose()
    {
        lock (_handles)
        {
            _disposed = true;
            foreach (var handle in _retired.Append(_writeHandle))
            {
                try
                {
                    RandomAccess.FlushToDisk(handle);
                }
                catch (IOException)
                {
                    // closing anyway; the bodies are in the page cache, as after any commit
                }

                handle.Dispose();
            }
        }

        foreach (var reader in _readers.Values)
        {
            reader.Dispose();
        }
    }

    /// <summary>A new segment numbered after <paramref name="after"/> and every segment on disk (another process may have made some).</summary>
    private (long Segment, SafeFileHandle Handle) CreateNext(long after)
    {
        var next = Math.Max(after, Segments().DefaultIfEmpty(0).Max()) + 1;
        while (true)
        {
            try
            {
                return (next, File.OpenHandle(PathOf(next), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete));
            }
            catch (IOException) when (File.Exists(PathOf(next)))
            {
                next++; // created by another process just now
            }
        }
    }

    private string PathOf(long segment) => Path.Combine(_directory, segment.ToString("D10", CultureInfo.InvariantCulture) + Extension);

    private IEnumerable<long> Segments() =>
        Directory.EnumerateFiles(_directory, "*" + Extension)
            .Select(f => long.TryParse(Path.GetFileNameWithoutExtension(f), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0)
            .Where(n => n > 0);

    /// <summary>
    /// A frame's checksum: CRC-32C of its length field and its body. Covering the length too means a frame of zeros
    /// (what a file extended but never written holds after a power loss) does not check out as an empty body.
    /// </summary>
    private static uint Checksum(ReadOnlySpan<byte> length, ReadOnlySpan<byte> body) => ~Crc32CUpdate(Crc32CUpdate(uint.MaxValue, length), body);

    /// <summary>CRC-32C (Castagnoli) with the processor's instruction where it has one.</summary>
    internal static uint Crc32C(ReadOnlySpan<byte> data) => ~Crc32CUpdate(uint.MaxValue, data);

    private static uint Crc32CUpdate(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= sizeof(ulong))
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[sizeof(ulong)..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc;
    }
}
