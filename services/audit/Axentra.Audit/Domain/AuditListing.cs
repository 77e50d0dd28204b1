using System.Globalization;
using Axentra.Contracts;

namespace Axentra.Audit.Domain;

/// <summary>One audited event found by a listing.</summary>
public sealed record AuditedEvent(string EventId, string S3Key, string ReceivedOn);

/// <summary>
/// A listing of one store's audit objects of one event type over an inclusive range of UTC days, as a range of
/// keys under <c>{store_id}/{event_type}/</c>. The layout's zero-padded <c>yyyy/MM/dd</c> makes key order date
/// order, so the range is one prefix listing that starts just before the first day and stops after the last.
/// </summary>
public sealed record AuditListing(string StoreId, string EventType, DateOnly? From, DateOnly? To)
{
    private const string DateFormat = "yyyy'/'MM'/'dd";
    private const string PayloadSuffix = ".json";
    private const string MetadataSuffix = ".metadata.json";

    public string Prefix => $"{StoreId}/{EventType}/";

    /// <summary>
    /// The key to list after: the caller's continuation token, or (first page) a key just below the first day's
    /// keys, which all extend <c>{prefix}{yyyy}/{MM}/{dd}/</c>.
    /// </summary>
    public string? StartAfter(string? continuationToken)
    {
        var first = From is { } from ? $"{Prefix}{from.ToString(DateFormat, CultureInfo.InvariantCulture)}/" : null;
        return continuationToken is null || (first is not null && string.CompareOrdinal(continuationToken, first) < 0) ? first : continuationToken;
    }

    /// <summary>A continuation token this listing may have issued: a key under its prefix.</summary>
    public bool Owns(string continuationToken) =>
        continuationToken.Length <= 1024 && continuationToken.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>What <paramref name="key"/> means for this listing: an event, a key to skip, or the end of the range.</summary>
    public (AuditedEvent? Event, bool PastEnd) Classify(string key)
    {
        // {prefix}yyyy/MM/dd/{event_id}.json
        var rest = key.AsSpan(Prefix.Length);
        if (!key.StartsWith(Prefix, StringComparison.Ordinal) || rest.Length < 12 || rest[10] != '/'
            || !DateOnly.TryParseExact(rest[..10], DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return (null, false);
        }

        if (To is { } to && day > to)
        {
            return (null, true);
        }

        var name = rest[11..].ToString();
        if (name.EndsWith(MetadataSuffix, StringComparison.Ordinal) || !name.EndsWith(PayloadSuffix, StringComparison.Ordinal))
        {
            return (null, false);
        }

        var eventId = name[..^PayloadSuffix.Length];
        return SafeKeySegment.IsValid(eventId)
            ? (new AuditedEvent(eventId, key, day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)), false)
            : (null, false);
    }
}
