using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Axentra.Intake.Auth;

/// <summary>
/// Standard Webhooks (https://www.standardwebhooks.com) signature verification, as Supabase Auth hooks sign:
/// HMAC-SHA256 over <c>{webhook-id}.{webhook-timestamp}.{body}</c> with the base64 secret after <c>whsec_</c>;
/// <c>webhook-signature</c> holds space-separated <c>v1,{base64}</c> entries, any of which may match any secret.
/// A timestamp outside the tolerance is refused, so a captured request cannot be replayed later; inside it, a
/// replay carries the same <c>webhook-id</c> and is answered as a duplicate.
/// </summary>
public sealed class StandardWebhookSignature
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";
    private const string SecretPrefix = "whsec_";

    /// <summary>The shortest signing key accepted at start-up (the specification's keys are 24 to 64 bytes).</summary>
    public const int MinSecretBytes = 24;

    private readonly byte[][] _keys;
    private readonly TimeSpan _tolerance;

    public StandardWebhookSignature(IEnumerable<string> secrets, TimeSpan tolerance)
    {
        _keys = secrets.Where(s => !string.IsNullOrEmpty(s)).Select(DecodeSecret).ToArray();
        _tolerance = tolerance;
    }

    public bool IsConfigured => _keys.Length > 0;

    public static byte[] DecodeSecret(string secret)
    {
        var encoded = secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret;
        try
        {
            return Convert.FromBase64String(encoded);
        }
        catch (FormatException ex)
        {
            throw new FormatException("A signing secret must be 'whsec_' followed by base64.", ex);
        }
    }

    /// <summary>Null when the signature is valid, otherwise why not (for the 401's detail).</summary>
    public string? Verify(string? id, string? timestamp, string? signatures, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signatures))
        {
            return "webhook-id, webhook-timestamp and webhook-signature are all required";
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return "webhook-timestamp is not Unix seconds";
        }

        var skew = now - DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253402300799));
        if (skew.Duration() > _tolerance)
        {
            return "webhook-timestamp is outside the tolerance (stale or replayed)";
        }

        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));

        var match = false;
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        foreach (var key in _keys)
        {
            HMACSHA256.HashData(key, signed, expected);
            foreach (var entry in signatures.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (entry.StartsWith("v1,", StringComparison.Ordinal)
                    && Convert.TryFromBase64String(entry[3..], given, out var written)
                    && written == given.Length)
                {
                    match |= CryptographicOperations.FixedTimeEquals(expected, given);
                }
            }
        }

        return match ? null : "no webhook-signature entry matches";
    }

    /// <summary>The <c>v1,…</c> signature of a message (what a sender computes; used by tests and docs).</summary>
    public static string Sign(string secret, string id, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp.ToString(CultureInfo.InvariantCulture)}.");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(DecodeSecret(secret), signed));
    }
}
