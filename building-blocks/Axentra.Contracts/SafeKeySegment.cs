namespace Axentra.Contracts;

/// <summary>
/// Ids become object keys (<c>{store_id}/…/{event_id}.json</c>) and file paths in standalone mode, so only
/// segments that cannot escape their place are accepted: letters, digits, '-', '_', '.', 1–128 characters,
/// and never "." or "..".
/// </summary>
public static class SafeKeySegment
{
    public const int MaxLength = 128;

    public static bool IsValid(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength || value is "." or "..")
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
