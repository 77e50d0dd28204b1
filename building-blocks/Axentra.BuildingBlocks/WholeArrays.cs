using System.Runtime.InteropServices;

namespace Axentra.BuildingBlocks;

/// <summary>
/// Byte arrays for APIs that take only a whole <c>byte[]</c> (SQLite parameters, contract properties), without a copy
/// when the bytes already are one. Intake's webhooks arrive as fresh arrays of exactly their length (the body, the
/// serialised envelope and records); copying each again was about a fifth of the bytes intake allocates per webhook
/// (docs/performance.md, eighth round).
/// </summary>
public static class WholeArrays
{
    /// <summary>
    /// The array behind <paramref name="bytes"/> when they span all of it, else a copy. The result may be the
    /// caller's own array: use it only where the caller does not change those bytes afterwards.
    /// </summary>
    public static byte[] Of(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetArray(bytes, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : bytes.ToArray();
}
