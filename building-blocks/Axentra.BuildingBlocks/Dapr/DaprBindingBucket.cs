using System.Text;
using System.Text.Json;
using Axentra.BuildingBlocks.Bindings;
using Dapr;
using Dapr.Client;

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
/// binding stays in here:
/// <list type="bullet">
/// <item>the key travels as metadata <c>key</c> (S3) or <c>fileName</c> (local storage);</item>
/// <item>content is sent base64-encoded (S3 with <c>decodeBase64=true</c>; local storage decodes valid base64 by
/// itself), because both bindings otherwise "unquote" data that parses as a JSON string, which would alter such
/// a payload;</item>
/// <item>a missing object is an error from either binding, recognised by its message and returned as null;</item>
/// <item>S3 server-side encryption is not a binding option: it is the bucket's default encryption setting.</item>
/// </list>
/// </summary>
public sealed class DaprBindingBucket(DaprClient dapr, string bucketName, string bindingName, BucketBindingType type) : IObjectBucket
{
    public string Name => bucketName;

    private string KeyMetadata => type == BucketBindingType.AwsS3 ? "key" : "fileName";

    public async ValueTask PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var request = Request("create", key);
        request.Data = Encoding.ASCII.GetBytes(Convert.ToBase64String(content.Span));
        if (type == BucketBindingType.AwsS3)
        {
            request.Metadata["decodeBase64"] = "true";
        }

        await InvokeAsync(request, key, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await dapr.InvokeBindingAsync(Request("get", key), cancellationToken).ConfigureAwait(false);
            return response.Data.ToArray();
        }
        catch (DaprException ex) when (IsNotFound(ex))
        {
            return null;
        }
        catch (DaprException ex)
        {
            throw Unavailable("get", key, ex);
        }
    }

    public async ValueTask DeleteAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await dapr.InvokeBindingAsync(Request("delete", key), cancellationToken).ConfigureAwait(false);
        }
        catch (DaprException ex) when (IsNotFound(ex))
        {
        }
        catch (DaprException ex)
        {
            throw Unavailable("delete", key, ex);
        }
    }

    public async ValueTask<ObjectListPage> ListAsync(string prefix, string? continuationToken, int pageSize, CancellationToken cancellationToken)
    {
        var request = new BindingRequest(bindingName, "list");
        if (type == BucketBindingType.AwsS3)
        {
            // S3 ListObjects: marker = the key to start after; the answer is the AWS SDK's ListObjectsOutput as JSON.
            request.Data = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
            {
                ["maxResults"] = pageSize,
                ["prefix"] = prefix,
                ["marker"] = continuationToken ?? string.Empty,
            });
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

        // localstorage lists every file under its root (no prefix or paging of its own): filter and page here.
        var all = await InvokeAsync(request, prefix, cancellationToken).ConfigureAwait(false);
        var names = JsonSerializer.Deserialize<List<string>>(all.Data.Span) ?? [];
        var page = names
            .Select(n => n.Replace('\\', '/'))
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && (continuationToken is null || string.CompareOrdinal(n, continuationToken) > 0))
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

    private BindingRequest Request(string operation, string key)
    {
        var request = new BindingRequest(bindingName, operation);
        request.Metadata[KeyMetadata] = key;
        return request;
    }

    private async Task<BindingResponse> InvokeAsync(BindingRequest request, string key, CancellationToken cancellationToken)
    {
        try
        {
            return await dapr.InvokeBindingAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (DaprException ex)
        {
            throw Unavailable(request.Operation, key, ex);
        }
    }

    private static bool IsNotFound(DaprException ex)
    {
        var message = ex.InnerException?.Message + " " + ex.Message;
        return message.Contains("NoSuchKey", StringComparison.OrdinalIgnoreCase)
            || message.Contains("no such file", StringComparison.OrdinalIgnoreCase)
            || message.Contains("not found", StringComparison.OrdinalIgnoreCase)
            || message.Contains("does not exist", StringComparison.OrdinalIgnoreCase);
    }

    private BackendUnavailableException Unavailable(string operation, string key, DaprException ex) =>
        new($"bucket {bucketName} (binding {bindingName})", $"{operation} of '{key}' failed", ex);
}

/// <summary>Resolves buckets to their Dapr bindings.</summary>
public sealed class DaprObjectBuckets(DaprClient dapr, IReadOnlyDictionary<string, (string Binding, BucketBindingType Type)> bindings) : IObjectBuckets
{
    public IObjectBucket Open(string bucketName) =>
        bindings.TryGetValue(bucketName, out var binding)
            ? new DaprBindingBucket(dapr, bucketName, binding.Binding, binding.Type)
            : throw new InvalidOperationException($"No binding is configured for bucket '{bucketName}'.");
}
