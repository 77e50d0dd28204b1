using System.Globalization;
using System.Security.Cryptography;

namespace Axentra.BuildingBlocks;

/// <summary>
/// Tokens unique across processes and restarts, for ETags and claim tokens: a random prefix drawn once per process
/// (96 bits) and a counter. Hot paths take one per write; a random GUID each time was a getrandom system call
/// (about 0.7 % of intake's CPU per webhook, docs/performance.md).
/// </summary>
public static class UniqueTokens
{
    private static readonly string Prefix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)) + "-";
    private static long s_sequence;

    /// <summary>The next token: the prefix and the counter in hex, never the same twice in one process.</summary>
    public static string Next() => string.Create(CultureInfo.InvariantCulture, $"{Prefix}{Interlocked.Increment(ref s_sequence):x}");
}
