using System.Text.Json;

namespace Axentra.TestSupport.Dapr;

/// <summary>
/// components-contrib <c>bindings/localstorage/localstorage.go</c> over an in-memory file tree rooted at a fake absolute
/// <c>rootPath</c>:
/// <list type="bullet">
/// <item>the file is metadata <c>fileName</c>, joined to the root like securejoin (".." cannot climb above it);</item>
/// <item>create: data that is a Go string literal is unquoted (strconv.Unquote), then anything that is valid standard
/// base64 is DECODED, silently; the answer is <c>{"fileName": relative path}</c>;</item>
/// <item>get: a missing file is <c>file not found: {absolute path}</c>;</item>
/// <item>delete: a missing file is an error (<c>remove …: no such file or directory</c>), unlike S3;</item>
/// <item>list: <c>fileName</c> names a directory (the root when empty); the answer is a JSON array of ABSOLUTE paths
/// of every file below it, in filepath.Walk order (lexical per directory, not by full path), or <c>null</c> when
/// there are none.</item>
/// </list>
/// </summary>
internal sealed class LocalStorageEmulator(string rootPath) : IOutputBindingEmulator
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal) { "" };

    public string ComponentType => "bindings.localstorage";

    public IReadOnlyList<string> Operations { get; } = ["create", "get", "list", "delete"];

    public string RootPath => rootPath;

    public BindingResult Invoke(string operation, byte[] data, IReadOnlyDictionary<string, string> metadata)
    {
        var fileName = metadata.GetValueOrDefault("fileName") ?? "";
        if (fileName.Length == 0 && operation == "create")
        {
            fileName = Guid.NewGuid().ToString();
        }

        lock (_lock)
        {
            return operation switch
            {
                "create" => Create(Join(fileName), data),
                "get" => Get(Join(fileName)),
                "delete" => Delete(Join(fileName)),
                "list" => List(Join(fileName)),
                _ => throw new BindingComponentException($"unsupported operation {operation}"),
            };
        }
    }

    private BindingResult Create(string relative, byte[] data)
    {
        if (GoSemantics.StrconvUnquote(data) is { } unquoted)
        {
            data = unquoted;
        }

        if (GoSemantics.DecodeStdBase64(data) is { } decoded)
        {
            data = decoded;
        }

        var segments = relative.Split('/');
        for (var depth = 1; depth < segments.Length; depth++)
        {
            var directory = string.Join('/', segments[..depth]);
            if (_files.ContainsKey(directory))
            {
                var parent = Absolute(string.Join('/', segments[..^1]));
                throw new BindingComponentException($"error creating directory {parent}: mkdir {Absolute(directory)}: not a directory");
            }

            _directories.Add(directory);
        }

        if (_directories.Contains(relative))
        {
            throw new BindingComponentException($"error creating file {Absolute(relative)}: open {Absolute(relative)}: is a directory");
        }

        _files[relative] = data;
        return new BindingResult(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["fileName"] = relative.Length == 0 ? "." : relative }));
    }

    private BindingResult Get(string relative)
    {
        if (_files.TryGetValue(relative, out var data))
        {
            return new BindingResult(data);
        }

        var path = Absolute(relative);
        throw _directories.Contains(relative)
            ? new BindingComponentException($"error reading file {path}: read {path}: is a directory")
            : new BindingComponentException($"file not found: {path}");
    }

    private BindingResult Delete(string relative)
    {
        var path = Absolute(relative);
        if (_files.Remove(relative))
        {
            return new BindingResult([]);
        }

        if (_directories.Contains(relative))
        {
            if (relative.Length == 0 || _files.Keys.Any(f => f.StartsWith(relative + "/", StringComparison.Ordinal))
                || _directories.Any(d => d.StartsWith(relative + "/", StringComparison.Ordinal)))
            {
                throw new BindingComponentException($"error deleting file {path}: remove {path}: directory not empty");
            }

            _directories.Remove(relative);
            return new BindingResult([]);
        }

        throw new BindingComponentException($"error deleting file {path}: remove {path}: no such file or directory");
    }

    private BindingResult List(string relative)
    {
        var path = Absolute(relative);
        if (_files.ContainsKey(relative))
        {
            throw new BindingComponentException($"unable to list files as the file specified is not a directory: {path}");
        }

        if (!_directories.Contains(relative))
        {
            var blockedByFile = _files.Keys.Any(f => relative.StartsWith(f + "/", StringComparison.Ordinal));
            throw new BindingComponentException($"error getting stats for path {path}: stat {path}: {(blockedByFile ? "not a directory" : "no such file or directory")}");
        }

        var found = new List<string>();
        Walk(relative, found);
        return new BindingResult(JsonSerializer.SerializeToUtf8Bytes(found.Count == 0 ? null : found));
    }

    private void Walk(string directory, List<string> found)
    {
        var prefix = directory.Length == 0 ? "" : directory + "/";
        var children = _files.Keys.Concat(_directories)
            .Where(p => p.Length > prefix.Length && p.StartsWith(prefix, StringComparison.Ordinal) && !p[prefix.Length..].Contains('/', StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);
        foreach (var child in children)
        {
            if (_directories.Contains(child))
            {
                Walk(child, found);
            }
            else
            {
                found.Add(Absolute(child));
            }
        }
    }

    private string Absolute(string relative) => relative.Length == 0 ? rootPath : $"{rootPath}/{relative}";

    /// <summary>securejoin.SecureJoin(root, name) for a tree without symlinks: lexical, and ".." stops at the root.</summary>
    private static string Join(string fileName)
    {
        var parts = new List<string>();
        foreach (var segment in fileName.Split('/'))
        {
            if (segment is "" or ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                continue;
            }

            parts.Add(segment);
        }

        return string.Join('/', parts);
    }
}
