namespace Axentra.BuildingBlocks.Bindings;

public sealed record ObjectListPage(IReadOnlyList<string> Keys, string? ContinuationToken);

/// <summary>
/// A bucket reached through an output binding (create / get / delete / list). Keys are '/'-separated and are
/// identical in S3 and in the standalone data directory.
/// </summary>
public interface IObjectBucket
{
    /// <summary>The bucket's logical name (e.g. <c>axentra-webhook-raw-audit</c>).</summary>
    string Name { get; }

    ValueTask PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the object only when the key holds none: null when this call wrote it, otherwise the bytes the key
    /// already held (and nothing was written). For objects that must never be replaced (the audit trail).
    /// </summary>
    /// <remarks>
    /// Atomic where the backend can refuse to replace a name (the standalone host's file buckets). Over a Dapr
    /// binding it is a read and then a write: neither <c>bindings.aws.s3</c> nor <c>bindings.localstorage</c> can
    /// make a create conditional, so two writers racing on one absent key can both write (docs/audit.md).
    /// </remarks>
    ValueTask<byte[]?> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);

    /// <summary>The object's bytes, or null when there is no such object.</summary>
    ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Deletes the object; deleting a missing object is not an error.</summary>
    ValueTask DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>Keys under <paramref name="prefix"/> in lexicographic order, one page at a time.</summary>
    /// <remarks>
    /// <paramref name="continuationToken"/> is a key to list after (exclusive), like S3's <c>marker</c>: null starts at
    /// the beginning, a page's <see cref="ObjectListPage.ContinuationToken"/> (its last key) continues, and any other key
    /// skips ahead to it (the audit listing starts a date range that way). Every adapter keeps this meaning.
    /// </remarks>
    ValueTask<ObjectListPage> ListAsync(string prefix, string? continuationToken, int pageSize, CancellationToken cancellationToken);
}

/// <summary>Resolves a bucket by its logical name.</summary>
public interface IObjectBuckets
{
    IObjectBucket Open(string bucketName);
}
