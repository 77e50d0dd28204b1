namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// Where a key sorts in the embedded state table's index (<see cref="EmbeddedSchema"/>): keys that name the same
/// payload hash (a dedupe claim, the registry record and its stages) share a cluster, so they share index pages.
/// </summary>
internal static class StateKeyCluster
{
    /// <summary>Characters of the hex run that make the cluster; shorter runs (dates, counters, UUID groups) do not count.</summary>
    public const int Length = 16;

    /// <summary>The first <see cref="Length"/> characters of the key's first run of at least that many lowercase hex digits; empty when it has none.</summary>
    public static string Of(string key)
    {
        var run = 0;
        for (var i = 0; i < key.Length; i++)
        {
            if (char.IsAsciiHexDigitLower(key[i]))
            {
                if (++run == Length)
                {
                    return key.Substring(i - Length + 1, Length);
                }
            }
            else
            {
                run = 0;
            }
        }

        return string.Empty;
    }
}
