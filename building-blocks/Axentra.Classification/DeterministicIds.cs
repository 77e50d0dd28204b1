using System.Security.Cryptography;
using System.Text;

namespace Axentra.Classification;

/// <summary>
/// Name-based UUIDs (RFC 9562 version 5) for ids a payload lacks. The seed generated random v4 ids, so a
/// redelivery of an id-less payload got new ids and split one store into two; these are derived from the dedupe
/// key, so every delivery of one event gets the same ids.
/// </summary>
public static class DeterministicIds
{
    /// <summary>The platform's fixed namespace for generated ids. Changing it changes every generated id.</summary>
    public static readonly Guid Namespace = new("8c1f6a52-3d4e-5b7a-9c0d-2e4f6a8b0c1d");

    public static string StoreId(string dedupeKey) => NameBased(Namespace, "store_id:" + dedupeKey).ToString();

    public static string ProductId(string dedupeKey) => NameBased(Namespace, "product_id:" + dedupeKey).ToString();

    public static Guid NameBased(Guid namespaceId, string name)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var input = new byte[16 + nameBytes.Length];
        namespaceId.TryWriteBytes(input, bigEndian: true, out _);
        nameBytes.CopyTo(input, 16);
#pragma warning disable CA5350 // SHA-1 is what RFC 9562 v5 specifies; this is naming, not security
        var hash = SHA1.HashData(input);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // version 5
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC variant
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }
}
