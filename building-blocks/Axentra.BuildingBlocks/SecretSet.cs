using System.Security.Cryptography;
using System.Text;

namespace Axentra.BuildingBlocks;

/// <summary>
/// A set of secrets compared in constant time: every candidate is hashed (so lengths leak nothing) and compared
/// against every secret, with no early exit.
/// </summary>
public sealed class SecretSet
{
    private readonly byte[][] _digests;

    public SecretSet(IEnumerable<string> secrets)
    {
        _digests = secrets.Where(s => !string.IsNullOrEmpty(s)).Select(Digest).ToArray();
    }

    public bool IsEmpty => _digests.Length == 0;

    public bool Contains(string candidate) => IndexOf(candidate) >= 0;

    /// <summary>Which secret matched (its position in configuration), or -1.</summary>
    public int IndexOf(string candidate)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(candidate), digest);
        var found = -1;
        for (var i = 0; i < _digests.Length; i++)
        {
            var equal = CryptographicOperations.FixedTimeEquals(_digests[i], digest);
            found = equal ? i : found;
        }

        return found;
    }

    public bool Overlaps(SecretSet other) =>
        _digests.Any(mine => other._digests.Any(theirs => mine.AsSpan().SequenceEqual(theirs)));

    private static byte[] Digest(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
