using System.Globalization;
using Axentra.Classification;
using Axentra.Contracts;

namespace Axentra.Catalog.Replay;

/// <summary>
/// One payload object of the raw audit trail, as its key names it:
/// <c>{store_id}/{event_type}/{yyyy}/{MM}/{dd}/{event_id}.json</c> (docs/audit.md).
/// </summary>
public sealed record AuditedEvent(string Key, string StoreId, string EventType, DateOnly Day, string EventId, long ReceivedUnixSeconds)
{
    /// <summary>Parses a raw-audit key; null for metadata files and anything outside the layout.</summary>
    public static AuditedEvent? TryParse(string key)
    {
        var parts = key.Split('/');
        if (parts.Length != 6 || !parts[5].EndsWith(".json", StringComparison.Ordinal) || parts[5].EndsWith(".metadata.json", StringComparison.Ordinal))
        {
            return null;
        }

        var eventId = parts[5][..^".json".Length];
        var dash = eventId.LastIndexOf('-');
        if (!SafeKeySegment.IsValid(parts[0]) || !EventTypes.All.Contains(parts[1]) || !SafeKeySegment.IsValid(eventId) || dash != 16
            || !long.TryParse(eventId.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || !DateOnly.TryParseExact($"{parts[2]}-{parts[3]}-{parts[4]}", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return null;
        }

        return new AuditedEvent(key, parts[0], parts[1], day, eventId, seconds);
    }

    /// <summary>
    /// The envelope intake published for this event, rebuilt from the audit object: identity from the key, hash and
    /// ids from the bytes with intake's own classifier. The registry record, when it still exists, supplies what the
    /// bytes cannot: the exact receipt time (the key has whole seconds; the stale-event guard orders by it when the
    /// payload has no <c>updated_at</c>) and ids generated from a <c>webhook-id</c> header the bytes do not carry.
    /// </summary>
    /// <returns>The envelope, or the reason this object cannot be replayed.</returns>
    public (WebhookEnvelope? Envelope, string? Problem) ToEnvelope(byte[] payload, RegistryRecord? record)
    {
        var (webhook, rejection) = WebhookClassifier.Classify(payload, webhookId: null);
        if (webhook is null)
        {
            // The code only: a rejection's detail may quote the payload (a member name), and this goes to the log.
            return (null, $"{Key}: the audited bytes do not classify ({rejection!.Code})");
        }

        if (!webhook.PayloadHash.StartsWith(EventId[..16], StringComparison.Ordinal))
        {
            return (null, $"{Key}: the bytes do not hash to the event id's prefix (the object is not the event's payload)");
        }

        if (record is not null && (record.EventId != EventId || record.StoreId != StoreId || record.EventType != EventType))
        {
            record = null; // a record for another event (should not happen): trust the audit trail
        }

        var productId = record is not null ? record.ProductId : webhook.ProductId;
        var storeIdGenerated = record?.GeneratedIds.Contains("store_id") ?? webhook.GeneratedIds.Contains("store_id");
        if (record is null && (webhook.EventType != EventType || (!storeIdGenerated && webhook.StoreId != StoreId)))
        {
            return (null, $"{Key}: the bytes classify as {webhook.EventType} for store {webhook.StoreId}, not as the key says");
        }

        var receivedAt = record is not null && DateTimeOffset.TryParse(record.ProcessingTimestamp, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var exact)
            ? exact
            : DateTimeOffset.FromUnixTimeSeconds(ReceivedUnixSeconds);
        return (new WebhookEnvelope
        {
            EventId = EventId,
            PayloadHash = webhook.PayloadHash,
            EventType = EventType,
            StoreId = StoreId,
            ProductId = productId,
            S3Key = Key,
            ReceivedAt = receivedAt,
            DedupeKey = record?.DedupeKey ?? webhook.DedupeKey,
            GeneratedIds = record?.GeneratedIds ?? webhook.GeneratedIds,
            RoutingTarget = null, // a replay rebuilds the catalogs; it does not forward events downstream again
            Payload = payload,
        }, null);
    }
}
