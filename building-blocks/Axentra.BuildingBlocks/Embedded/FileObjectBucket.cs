using Axentra.BuildingBlocks.Bindings;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// A bucket as a directory: <c>{DataDir}/{bucket}/{key}</c>. An object appears whole or not at all, so a killed
/// process never leaves a torn one: on Linux it is written as an unnamed file and then linked into place
/// (<see cref="UnnamedFile"/>), elsewhere (or on a file system without unnamed files) as a temporary file renamed
/// into place. Keys are checked so none can leave the directory.
/// </summary>
public sealed class FileObjectBucket : IObjectBucket
{
    private const string TempMarker = ".tmp-";
    private const int MaxKnownDirectories = 10_000;
    private readonly string _root;

    /// <summary>Folders this bucket created or found, so a write does not ask the file system again each time.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _knownDirectories = new(StringComparer.Ordinal);
    private readonly bool _fsync;
    private bool _unnamedFiles;

    public FileObjectBucket(string dataDirectory, string bucketName, bool fsync)
        : this(dataDirectory, bucketName, fsync, UnnamedFile.MayWork)
    {
    }

    /// <param name="dataDirectory">The standalone host's data directory.</param>
    /// <param name="bucketName">The bucket, a folder of the data directory.</param>
    /// <param name="fsync">Flush each object's bytes to disk before it appears.</param>
    /// <param name="unnamedFiles">Try unnamed files first (<see cref="UnnamedFile"/>); tests turn it off to cover the other way.</param>
    internal FileObjectBucket(string dataDirectory, string bucketName, bool fsync, bool unnamedFiles)
    {
        Name = bucketName;
        _root = Path.GetFullPath(Path.Combine(dataDirectory, bucketName));
        _fsync = fsync;
        _unnamedFiles = unnamedFiles;
        Directory.CreateDirectory(_root);
    }

    /// <summary>Whether objects are still written as unnamed files (false once the file system turned out not to support them).</summary>
    internal bool WritesUnnamedFiles => _unnamedFiles;

    public string Name { get; }

    public ValueTask PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        Write(key, PathOf(key), content.Span, overwrite: true);
        return ValueTask.CompletedTask;
    }

    /// <remarks>
    /// Atomic: the object is linked into place (from an unnamed file, or by name from a temporary one) with a call
    /// that fails when the name is taken, so of two writers racing on one key exactly one creates it and the other
    /// gets its bytes.
    /// </remarks>
    public ValueTask<byte[]?> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (Write(key, path, content.Span, overwrite: false))
            {
                return ValueTask.FromResult<byte[]?>(null);
            }

            if (Read(key, path) is { } existing)
            {
                return ValueTask.FromResult<byte[]?>(existing);
            }

            // deleted between our create and our read: try the create again
        }

        throw new BackendUnavailableException($"bucket {Name}", $"'{key}' kept appearing and disappearing while being created");
    }

    /// <summary>Writes the object whole; false, with nothing written, when it exists and <paramref name="overwrite"/> is false.</summary>
    private bool Write(string key, string path, ReadOnlySpan<byte> content, bool overwrite)
    {
        var directory = Path.GetDirectoryName(path)!;
        if (_unnamedFiles && TryWriteUnnamed(key, path, directory, content, overwrite) is { } written)
        {
            return written;
        }

        var temp = TempNameOf(path);
        try
        {
            // Inside the try: a folder that cannot be created (disk full, permissions, a file in its place) is the
            // bucket being unavailable, like any other failed write.
            if (!_knownDirectories.ContainsKey(directory))
            {
                EnsureDirectory(directory);
            }

            // Synchronous: objects are small, and an asynchronous FileStream on Linux only moves the same blocking
            // write to another pool thread, at the cost of a hop and a buffer per object.
            using (var handle = CreateTemporary(temp, directory))
            {
                RandomAccess.Write(handle, content, fileOffset: 0);
                if (_fsync)
                {
                    RandomAccess.FlushToDisk(handle);
                }
            }

            if (overwrite)
            {
                File.Move(temp, path, overwrite: true);
            }
            else if (!TryNameNew(key, temp, path))
            {
                return false;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _knownDirectories.TryRemove(directory, out _); // look at the folder again next time
            TryDelete(temp);
            throw new BackendUnavailableException($"bucket {Name}", $"cannot write '{key}'", ex);
        }

        return true;
    }

    /// <summary>
    /// Gives the written temporary file its final name unless that name is taken: false then, with the temporary file
    /// removed. On Unix .NET's move without overwrite checks for the name first, so two racing writers could both
    /// "create" the object; link(2) refuses a taken name atomically. Windows' move refuses it atomically itself.
    /// </summary>
    private static bool TryNameNew(string key, string temp, string path)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                File.Move(temp, path, overwrite: false);
                return true;
            }
            catch (IOException) when (File.Exists(path))
            {
                TryDelete(temp);
                return false;
            }
        }

        var errno = UnnamedFile.LinkName(temp, path);
        TryDelete(temp);
        return errno switch
        {
            0 => true,
            UnnamedFile.Exists => false,
            _ => throw new IOException($"cannot link '{key}' into place: errno {errno}", errno),
        };
    }

    private static string TempNameOf(string path) => $"{path}{TempMarker}{UniqueTokens.Next()}";

    /// <summary>
    /// Writes the object as an unnamed file linked into place (<see cref="UnnamedFile"/>): true when written, false
    /// when the name is taken and <paramref name="overwrite"/> is false, null when this file system cannot, after which
    /// the bucket writes temporary files renamed into place.
    /// </summary>
    private bool? TryWriteUnnamed(string key, string path, string directory, ReadOnlySpan<byte> content, bool overwrite)
    {
        try
        {
            if (!_knownDirectories.ContainsKey(directory))
            {
                EnsureDirectory(directory);
            }

            var file = UnnamedFile.Create(directory, out var errno);
            if (file is null && errno == UnnamedFile.NoSuchEntry)
            {
                _knownDirectories.TryRemove(directory, out _); // removed since we last saw it: create it again, once
                EnsureDirectory(directory);
                file = UnnamedFile.Create(directory, out errno);
            }

            if (file is null)
            {
                return NotSupported(errno);
            }

            using (file)
            {
                RandomAccess.Write(file, content, fileOffset: 0);
                if (_fsync)
                {
                    RandomAccess.FlushToDisk(file);
                }

                errno = UnnamedFile.Link(file, path);
                if (errno == UnnamedFile.Exists)
                {
                    if (!overwrite)
                    {
                        return false; // the unnamed file goes with its handle
                    }

                    // An overwrite: name it temporarily, then rename over the old object (atomic replace).
                    var temp = TempNameOf(path);
                    errno = UnnamedFile.Link(file, temp);
                    if (errno == 0)
                    {
                        try
                        {
                            File.Move(temp, path, overwrite: true);
                        }
                        catch
                        {
                            TryDelete(temp);
                            throw;
                        }
                    }
                }
            }

            return errno == 0 ? true : NotSupported(errno);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _knownDirectories.TryRemove(directory, out _);
            throw new BackendUnavailableException($"bucket {Name}", $"cannot write '{key}'", ex);
        }
    }

    /// <summary>
    /// After a failed open or link: null, with unnamed files off for this bucket, when the kernel or file system
    /// does not offer them (or /proc is not mounted); any other error is the bucket failing.
    /// </summary>
    private bool? NotSupported(int errno)
    {
        if (UnnamedFile.MeansUnsupported(errno))
        {
            _unnamedFiles = false;
            return null;
        }

        throw new IOException($"errno {errno}", errno);
    }

    /// <summary>Creates the temporary file; a folder removed since we last saw it is created again, once.</summary>
    private Microsoft.Win32.SafeHandles.SafeFileHandle CreateTemporary(string temp, string directory)
    {
        try
        {
            return File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        }
        catch (DirectoryNotFoundException)
        {
            _knownDirectories.TryRemove(directory, out _);
            EnsureDirectory(directory);
            return File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        }
    }

    private void EnsureDirectory(string directory)
    {
        Directory.CreateDirectory(directory);
        if (_knownDirectories.Count >= MaxKnownDirectories)
        {
            _knownDirectories.Clear();
        }

        _knownDirectories[directory] = true;
    }

    public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Read(key, PathOf(key)));

    private byte[]? Read(string key, string path)
    {
        if (!File.Exists(path))
        {
            return null; // the common answer to validation's checks, without an exception
        }

        try
        {
            return File.ReadAllBytes(path); // small objects: synchronous, like PutAsync
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BackendUnavailableException($"bucket {Name}", $"cannot read '{key}'", ex);
        }
    }

    public ValueTask DeleteAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            File.Delete(PathOf(key));
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BackendUnavailableException($"bucket {Name}", $"cannot delete '{key}'", ex);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<ObjectListPage> ListAsync(string prefix, string? continuationToken, int pageSize, CancellationToken cancellationToken)
    {
        // Start from the deepest directory the prefix names, so listing one store's folder does not walk the bucket.
        var slash = prefix.LastIndexOf('/');
        var directory = slash < 0 ? _root : PathOf(prefix[..slash]);
        if (!Directory.Exists(directory))
        {
            return ValueTask.FromResult(new ObjectListPage([], null));
        }

        var keys = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(p => !Path.GetFileName(p).Contains(TempMarker, StringComparison.Ordinal)) // the file name only: a store id may hold ".tmp-"
            .Select(p => Path.GetRelativePath(_root, p).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal)
                && (continuationToken is null || string.CompareOrdinal(k, continuationToken) > 0))
            .Order(StringComparer.Ordinal)
            .Take(pageSize + 1)
            .ToList();

        var more = keys.Count > pageSize;
        if (more)
        {
            keys.RemoveAt(keys.Count - 1);
        }

        return ValueTask.FromResult(new ObjectListPage(keys, more ? keys[^1] : null));
    }

    private string PathOf(string key)
    {
        if (string.IsNullOrEmpty(key) || key.Contains('\\', StringComparison.Ordinal) || key.StartsWith('/')
            || key.Split('/').Any(segment => segment is "" or "." or ".."))
        {
            throw new ArgumentException($"'{key}' is not a valid object key.", nameof(key));
        }

        var path = Path.GetFullPath(Path.Combine(_root, key));
        if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{key}' is not a valid object key.", nameof(key));
        }

        return path;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>The standalone host's buckets: one directory each under the data directory.</summary>
public sealed class FileObjectBuckets(string dataDirectory, bool fsync) : IObjectBuckets
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, FileObjectBucket> _buckets = new(StringComparer.Ordinal);

    public IObjectBucket Open(string bucketName) =>
        _buckets.GetOrAdd(bucketName, name => new FileObjectBucket(dataDirectory, name, fsync));
}
