using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Axentra.BuildingBlocks.Bindings;
using Dapr;
using Dapr.Client;
using Grpc.Core;

namespace Axentra.BuildingBlocks.Dapr;

/// <summary>The binding component types a bucket can sit behind; their metadata differs.</summary>
public enum BucketBindingType
{
    /// <summary><c>bindings.aws.s3</c>: object key in metadata <c>key</c>.</summary>
    AwsS3,

    /// <summary><c>bindings.localstorage</c> (for <c>dapr run</c>): object key in metadata <c>fileName</c>.</summary>
    LocalStorage,
}

/// <summary>
/// <see cref="IObjectBucket"/> over a Dapr output binding. Every difference between the S3 and the local-storage
/// binding stays in here (components-contrib bindings/aws/s3/s3.go and bindings/localstorage/localstorage.go):
/// <list type="bullet">
/// <item>the key travels as metadata <c>key</c> (S3) or <c>fileName</c> (local storage);</item>
/// <item>content always travels base64-encoded, because both bindings rewrite some payloads on create. S3 runs the
/// data through <c>utils.Unquote</c> (a JSON string loses its quotes, <c>null</c> becomes empty, long digit runs are
/// re-printed as floats), so it gets the base64 text as a JSON string literal plus <c>decodeBase64=true</c>: Unquote
/// then yields exactly the base64 text. Local storage Go-unquotes and then decodes anything that is valid base64
/// (so a payload such as <c>"abcd"</c> would be mangled), so it gets the bare base64 text, which it decodes;</item>
/// <item>S3 get sends <c>encodeBase64=false</c>, so a component configured to base64 its answers cannot change the bytes;</item>
/// <item>neither binding has a not-found status: every component error is gRPC <c>Internal</c>, told apart by the
/// component's own text (S3 <c>object not found</c>, or <c>NoSuchKey</c> before Dapr 1.13; local storage
/// <c>file not found:</c> / <c>no such file or directory</c>). Deleting a missing S3 key succeeds; locally it fails,
/// and is treated as done;</item>
/// <item>listing: S3 takes <c>{maxResults, prefix, marker}</c> and answers the AWS SDK's ListObjectsOutput
/// (PascalCase, <c>Contents</c> null when empty, at most 1,000 keys, no NextMarker without a delimiter, so the next
/// marker is the last key). Local storage lists one directory recursively, answers ABSOLUTE paths under its
/// <c>rootPath</c> (or <c>null</c>), in walk order, with no paging: the root is learnt once from the path its
/// not-found error reports, then keys are filtered, sorted and paged here;</item>
/// <item>S3 server-side encryption is not a binding option: it is the bucket's default encryption setting;</item>
/// <item>S3 takes the object's content type from metadata <c>Content-Type</c> (else the object is
/// <c>binary/octet-stream</c>): a <c>.json</c> key, every object the platform writes, is stored as <c>application/json</c>.
/// Local storage keeps no content type.</item>
/// </list>
/// Keys are checked like the standalone buckets check them, so a key means the same object in every mode (local
/// storage would otherwise quietly clamp <c>../x</c> to <c>x</c>).
/// </summary>
public sealed class DaprBindingBucket(DaprClient dapr, string bucketName, string bindingName, BucketBindingType type) : IObjectBucket
{
    private const int S3MaxKeys = 1000;
    private const string JsonContentType = "application/json";
    private const string RootProbePrefix = ".axentra-root-probe-";
    private string? _localStorageRoot;

    public string Name => bucketName;

    public async ValueTask PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var request = Request("create", key);
        var base64 = Convert.ToBase64String(content.Span);
        if (type == BucketBindingType.AwsS3)
        {
            request.Data = Encoding.ASCII.GetBytes($"\"{base64}\"");
            request.Metadata["decodeBase64"] = "true";
            if (key.EndsWith(".json", StringComparison.Ordinal))
            {
                request.Metadata["Content-Type"] = JsonContentType; // else S3 stores binary/octet-stream
            }
        }
        else
        {
            request.Data = Encoding.ASCII.GetBytes(base64);
        }

        await InvokeAsync(request, key, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var request = Request("get", key);
        if (type == BucketBindingType.AwsS3)
        {
            request.Metadata["encodeBase64"] = "false";
        }

        try
        {
            var response = await dapr.InvokeBindingAsync(request, cancellationToken).ConfigureAwait(false);
            return response.Data.ToArray();
        }
        catch (DaprException ex) when (IsMissing(ex))
        {
            return null;
        }
        catch (Exception ex) when (SidecarFailure.Is(ex, cancellationToken))
        {
            throw Unavailable("get", key, ex);
        }
    }

    /// <remarks>
    /// A read, then a write: neither binding can make a create conditional (S3's <c>If-None-Match</c> is not a
    /// binding option), so this is not atomic: two writers racing on an absent key can both write. The audit bucket's
    /// versioning keeps both versions should that happen (docs/audit.md).
    /// </remarks>
    public async ValueTask<byte[]?> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        if (await GetAsync(key, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return existing;
        }

        await PutAsync(key, content, cancellationToken).ConfigureAwait(false);
        return null;
    }

    public async ValueTask DeleteAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await dapr.InvokeBindingAsync(Request("delete", key), cancellationToken).ConfigureAwait(false);
        }
        catch (DaprException ex) when (IsMissing(ex))
        {
        }
        catch (Exception ex) when (SidecarFailure.Is(ex, cancellationToken))
        {
            throw Unavailable("delete", key, ex);
        }
    }

    public ValueTask<ObjectListPage> ListAsync(string prefix, string? continuationToken, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);
        return type == BucketBindingType.AwsS3
            ? ListS3Async(prefix, continuationToken, pageSize, cancellationToken)
            : ListLocalStorageAsync(prefix, continuationToken, pageSize, cancellationToken);
    }

    private async ValueTask<ObjectListPage> ListS3Async(string prefix, string? continuationToken, int pageSize, CancellationToken cancellationToken)
    {
        var request = new BindingRequest(bindingName, "list")
        {
            Data = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
            {
                ["maxResults"] = Math.Min(pageSize, S3MaxKeys),
                ["prefix"] = prefix,
                ["marker"] = continuationToken ?? string.Empty,
            }),
        };
        var response = await InvokeAsync(request, prefix, cancellationToken).ConfigureAwait(false);
        using var document = JsonDocument.Parse(response.Data);
        var keys = new List<string>();
        if (document.RootElement.TryGetProperty("Contents", out var contents) && contents.ValueKind == JsonValueKind.Array)
        {
            keys.AddRange(contents.EnumerateArray().Select(c => c.GetProperty("Key").GetString()!));
        }

        var truncated = document.RootElement.TryGetProperty("IsTruncated", out var t) && t.ValueKind == JsonValueKind.True;
        return new ObjectListPage(keys, truncated && keys.Count > 0 ? keys[^1] : null);
    }

    private async ValueTask<ObjectListPage> ListLocalStorageAsync(string prefix, string? continuationToken, int pageSize, CancellationToken cancellationToken)
    {
        var root = _localStorageRoot ??= await DiscoverLocalStorageRootAsync(cancellationToken).ConfigureAwait(false);

        // List only the deepest directory the prefix names: the binding walks everything below it.
        var slash = prefix.LastIndexOf('/');
        var request = new BindingRequest(bindingName, "list");
        request.Metadata["fileName"] = slash < 0 ? string.Empty : prefix[..slash];
        BindingResponse response;
        try
        {
            response = await dapr.InvokeBindingAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (DaprException ex) when (IsMissing(ex) || Detail(ex)?.Contains("not a directory", StringComparison.Ordinal) == true)
        {
            return new ObjectListPage([], null);
        }
        catch (Exception ex) when (SidecarFailure.Is(ex, cancellationToken))
        {
            throw Unavailable("list", prefix, ex);
        }

        var page = (JsonSerializer.Deserialize<List<string>>(response.Data.Span) ?? [])
            .Select(path => path.Replace('\\', '/'))
            .Where(path => path.StartsWith(root + "/", StringComparison.Ordinal))
            .Select(path => path[(root.Length + 1)..])
            .Where(key => key.StartsWith(prefix, StringComparison.Ordinal)
                && (continuationToken is null || string.CompareOrdinal(key, continuationToken) > 0))
            .Order(StringComparer.Ordinal)
            .Take(pageSize + 1)
            .ToList();
        var more = page.Count > pageSize;
        if (more)
        {
            page.RemoveAt(page.Count - 1);
        }

        return new ObjectListPage(page, more ? page[^1] : null);
    }

    /// <summary>
    /// Local storage answers list with absolute paths, and the app cannot know the sidecar's <c>rootPath</c>. Getting a
    /// file that cannot exist makes the binding report <c>file not found: {rootPath}/{name}</c>: the root is that path
    /// minus the name.
    /// </summary>
    private async Task<string> DiscoverLocalStorageRootAsync(CancellationToken cancellationToken)
    {
        var probe = RootProbePrefix + Guid.NewGuid().ToString("N");
        var request = new BindingRequest(bindingName, "get");
        request.Metadata["fileName"] = probe;
        try
        {
            await dapr.InvokeBindingAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (DaprException ex) when (Detail(ex) is { } detail && detail.IndexOf("file not found: ", StringComparison.Ordinal) is var at and >= 0)
        {
            var path = detail[(at + "file not found: ".Length)..].Trim().Replace('\\', '/');
            if (path.EndsWith("/" + probe, StringComparison.Ordinal))
            {
                return path[..^(probe.Length + 1)];
            }
        }
        catch (Exception ex) when (SidecarFailure.Is(ex, cancellationToken))
        {
            throw Unavailable("list", string.Empty, ex);
        }

        throw new BackendUnavailableException($"bucket {bucketName} (binding {bindingName})",
            "cannot determine the local storage binding's rootPath from its not-found error");
    }

    private BindingRequest Request(string operation, string key)
    {
        if (!IsValidKey(key))
        {
            throw new ArgumentException($"'{key}' is not a valid object key.", nameof(key));
        }

        var request = new BindingRequest(bindingName, operation);
        request.Metadata[type == BucketBindingType.AwsS3 ? "key" : "fileName"] = key;
        return request;
    }

    /// <summary>The standalone buckets' rule: relative, '/'-separated, no empty, "." or ".." segment, no backslash.</summary>
    private static bool IsValidKey(string key) =>
        !string.IsNullOrEmpty(key) && !key.Contains('\\', StringComparison.Ordinal)
        && !key.Split('/').Any(segment => segment is "" or "." or "..");

    private async Task<BindingResponse> InvokeAsync(BindingRequest request, string key, CancellationToken cancellationToken)
    {
        try
        {
            return await dapr.InvokeBindingAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (SidecarFailure.Is(ex, cancellationToken))
        {
            throw Unavailable(request.Operation, key, ex);
        }
    }

    /// <summary>The runtime's message for a failed binding call (gRPC Internal), or null for any other failure.</summary>
    private static string? Detail(DaprException ex) =>
        ex.InnerException is RpcException { StatusCode: StatusCode.Internal } rpc ? rpc.Status.Detail : null;

    private bool IsMissing(DaprException ex) => Detail(ex) is { } detail && (type == BucketBindingType.AwsS3
        ? detail.EndsWith(": object not found", StringComparison.Ordinal) || detail.Contains("NoSuchKey", StringComparison.Ordinal)
        : detail.Contains("file not found: ", StringComparison.Ordinal) || detail.EndsWith("no such file or directory", StringComparison.Ordinal)
            || detail.EndsWith(": not a directory", StringComparison.Ordinal));

    private BackendUnavailableException Unavailable(string operation, string key, Exception ex) =>
        new($"bucket {bucketName} (binding {bindingName})", $"{operation} of '{key}' failed", ex);
}

/// <summary>Resolves buckets to their Dapr bindings (one instance per bucket, so learnt facts such as a root are kept).</summary>
public sealed class DaprObjectBuckets(DaprClient dapr, IReadOnlyDictionary<string, (string Binding, BucketBindingType Type)> bindings) : IObjectBuckets
{
    private readonly ConcurrentDictionary<string, DaprBindingBucket> _buckets = new(StringComparer.Ordinal);

    public IObjectBucket Open(string bucketName) =>
        bindings.TryGetValue(bucketName, out var binding)
            ? _buckets.GetOrAdd(bucketName, name => new DaprBindingBucket(dapr, name, binding.Binding, binding.Type))
            : throw new InvalidOperationException($"No binding is configured for bucket '{bucketName}'.");
}
