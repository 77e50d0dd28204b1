using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Axentra.TestSupport.Dapr;

/// <summary>
/// components-contrib <c>bindings/aws/s3/s3.go</c> over an in-memory bucket:
/// <list type="bullet">
/// <item>create: key from metadata <c>key</c> (a random UUID without it); data passes through <c>utils.Unquote</c>
/// (see <see cref="GoSemantics.ContribUnquote"/>), then base64-decoding when <c>decodeBase64</c> is truthy;</item>
/// <item>get: a missing key is the error <c>object not found</c>; <c>encodeBase64</c> returns base64 text;</item>
/// <item>delete: S3 DeleteObject of a missing key succeeds;</item>
/// <item>list: data is JSON <c>{maxResults, prefix, marker, delimiter}</c> (maxResults &lt; 1 means 1000, S3 caps at 1000);
/// the answer is the AWS SDK's ListObjectsOutput marshalled by encoding/json, so PascalCase field names,
/// <c>Contents: null</c> when empty, and <c>NextMarker</c> only when a delimiter was given.</item>
/// </list>
/// </summary>
internal sealed class S3BucketEmulator(string bucketName, TimeProvider timeProvider) : IOutputBindingEmulator
{
    private const int MaxKeys = 1000;
    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, S3Object> _objects = new(StringComparer.Ordinal);

    public string ComponentType => "bindings.aws.s3";

    public IReadOnlyList<string> Operations { get; } = ["create", "get", "delete", "list", "presign", "bulkGet", "bulkCreate", "bulkDelete"];

    public BindingResult Invoke(string operation, byte[] data, IReadOnlyDictionary<string, string> metadata) => operation switch
    {
        "create" => Create(data, metadata),
        "get" => Get(metadata),
        "delete" => Delete(metadata),
        "list" => List(data),
        _ => throw new BindingComponentException($"s3 binding error: unsupported operation {operation}"),
    };

    private BindingResult Create(byte[] data, IReadOnlyDictionary<string, string> metadata)
    {
        var key = metadata.GetValueOrDefault("key") is { Length: > 0 } k ? k : Guid.NewGuid().ToString();
        var body = GoSemantics.ContribUnquote(data);
        if (metadata.GetValueOrDefault("decodeBase64") is { Length: > 0 } decode && GoSemantics.IsTruthy(decode))
        {
            body = GoSemantics.DecodeStdBase64(body)
                ?? throw new BindingComponentException("s3 binding error: uploading failed: illegal base64 data at input byte 0");
        }

        lock (_lock)
        {
#pragma warning disable CA5351 // S3's ETag of a single-part upload is the MD5 of the body; nothing here is security
            var etag = $"\"{Convert.ToHexStringLower(MD5.HashData(body))}\"";
#pragma warning restore CA5351
            _objects[key] = new S3Object(body, etag, timeProvider.GetUtcNow(),
                metadata.GetValueOrDefault("Content-Type")?.Trim());
        }

        var response = JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["location"] = $"https://{bucketName}.s3.amazonaws.com/{key}",
            ["versionID"] = null,
        });
        return new BindingResult(response, new Dictionary<string, string> { ["key"] = key });
    }

    private BindingResult Get(IReadOnlyDictionary<string, string> metadata)
    {
        var key = RequiredKey(metadata);
        S3Object? found;
        lock (_lock)
        {
            _objects.TryGetValue(key, out found);
        }

        if (found is null)
        {
            throw new BindingComponentException("object not found");
        }

        var encode = metadata.GetValueOrDefault("encodeBase64") is { Length: > 0 } e && GoSemantics.IsTruthy(e);
        return new BindingResult(encode ? System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(found.Data)) : found.Data);
    }

    private BindingResult Delete(IReadOnlyDictionary<string, string> metadata)
    {
        var key = RequiredKey(metadata);
        lock (_lock)
        {
            _objects.Remove(key);
        }

        return new BindingResult([]);
    }

    private BindingResult List(byte[] data)
    {
        string marker = "", prefix = "", delimiter = "";
        var maxResults = 0;
        if (data.Length > 0)
        {
            try
            {
                using var payload = JsonDocument.Parse(data);
                marker = Str(payload.RootElement, "marker");
                prefix = Str(payload.RootElement, "prefix");
                delimiter = Str(payload.RootElement, "delimiter");
                maxResults = payload.RootElement.TryGetProperty("maxResults", out var m) && m.ValueKind == JsonValueKind.Number ? m.GetInt32() : 0;
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
            {
                throw new BindingComponentException($"s3 binding (List Operation) - unable to parse Data property - {ex.Message}");
            }
        }

        if (maxResults < 1)
        {
            maxResults = MaxKeys;
        }

        var limit = Math.Min(maxResults, MaxKeys);
        var contents = new JsonArray();
        var commonPrefixes = new JsonArray();
        string? lastReturned = null;
        var truncated = false;
        lock (_lock)
        {
            foreach (var (key, obj) in _objects)
            {
                if (!key.StartsWith(prefix, StringComparison.Ordinal) || (marker.Length > 0 && string.CompareOrdinal(key, marker) <= 0))
                {
                    continue;
                }

                var rolledUp = delimiter.Length > 0 && key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal) is var d and >= 0
                    ? key[..(d + delimiter.Length)]
                    : null;
                if (rolledUp is not null && rolledUp == lastReturned)
                {
                    continue; // same common prefix, counted once
                }

                if (contents.Count + commonPrefixes.Count == limit)
                {
                    truncated = true;
                    break;
                }

                if (rolledUp is not null)
                {
                    commonPrefixes.Add(new JsonObject { ["Prefix"] = rolledUp });
                    lastReturned = rolledUp;
                }
                else
                {
                    contents.Add(ObjectJson(key, obj));
                    lastReturned = key;
                }
            }
        }

        var output = new JsonObject
        {
            ["CommonPrefixes"] = commonPrefixes.Count > 0 ? commonPrefixes : null,
            ["Contents"] = contents.Count > 0 ? contents : null,
            ["Delimiter"] = delimiter.Length > 0 ? delimiter : null,
            ["EncodingType"] = "",
            ["IsTruncated"] = truncated,
            ["Marker"] = marker,
            ["MaxKeys"] = maxResults,
            ["Name"] = bucketName,
            ["NextMarker"] = truncated && delimiter.Length > 0 ? lastReturned : null,
            ["Prefix"] = prefix,
            ["RequestCharged"] = "",
            ["ResultMetadata"] = new JsonObject(),
        };
        return new BindingResult(JsonSerializer.SerializeToUtf8Bytes(output));
    }

    private static JsonObject ObjectJson(string key, S3Object obj) => new()
    {
        ["ChecksumAlgorithm"] = new JsonArray("CRC32"),
        ["ChecksumType"] = "FULL_OBJECT",
        ["ETag"] = obj.ETag,
        ["Key"] = key,
        ["LastModified"] = obj.LastModified.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
        ["Owner"] = null,
        ["RestoreStatus"] = null,
        ["Size"] = obj.Data.Length,
        ["StorageClass"] = "STANDARD",
    };

    private static string Str(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";

    private static string RequiredKey(IReadOnlyDictionary<string, string> metadata) =>
        metadata.GetValueOrDefault("key") is { Length: > 0 } key
            ? key
            : throw new BindingComponentException("s3 binding error: required metadata 'key' missing");

    private sealed record S3Object(byte[] Data, string ETag, DateTimeOffset LastModified, string? ContentType);
}
