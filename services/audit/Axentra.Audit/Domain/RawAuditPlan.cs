using Axentra.Contracts;

namespace Axentra.Audit.Domain;

/// <summary>One object the audit writes: its key and its exact bytes.</summary>
public sealed record AuditObject(string Kind, string Key, ReadOnlyMemory<byte> Content)
{
    public const string PayloadKind = "payload";
    public const string MetadataKind = "metadata";
}

/// <summary>Why an envelope can never be audited (poison: dropped and recorded, never retried).</summary>
public sealed record AuditRejection(string Code, string Detail);

/// <summary>
/// What auditing one envelope means: the raw payload at its key and, for <c>store_create</c>, the metadata file
/// beside it. A pure function of the envelope, so redeliveries produce the same objects byte for byte.
/// </summary>
public sealed record RawAuditPlan(string EventId, string StoreId, string EventType, IReadOnlyList<AuditObject> Objects)
{
    /// <summary>
    /// The suffix the metadata object adds to an event id. An event id that itself ends in it would put its
    /// payload (<c>x.metadata.json</c>) where event <c>x</c> keeps its metadata, so such ids are refused.
    /// </summary>
    private const string MetadataSuffix = ".metadata";

    public string ObjectKey => Objects[0].Key;

    public static (RawAuditPlan? Plan, AuditRejection? Rejection) For(WebhookEnvelope envelope)
    {
        if (!SafeKeySegment.IsValid(envelope.EventId))
        {
            return (null, new("unsafe_event_id", "event_id is not a safe key segment"));
        }

        if (envelope.EventId.EndsWith(MetadataSuffix, StringComparison.Ordinal))
        {
            return (null, new("reserved_event_id", $"event_id ends in '{MetadataSuffix}', which the metadata objects' keys use"));
        }

        if (!SafeKeySegment.IsValid(envelope.StoreId))
        {
            return (null, new("unsafe_store_id", "store_id is not a safe key segment"));
        }

        if (!EventTypes.All.Contains(envelope.EventType, StringComparer.Ordinal))
        {
            return (null, new("unknown_event_type", "event_type is not one of the platform's event types"));
        }

        // Intake computed the key once; recomputing it here means a producer bug can never scatter audit objects
        // outside the documented layout.
        var expected = StorageKeys.RawAuditObject(envelope.StoreId, envelope.EventType, envelope.ReceivedAt, envelope.EventId);
        if (!string.Equals(envelope.S3Key, expected, StringComparison.Ordinal))
        {
            return (null, new("key_mismatch", $"s3_key does not equal the layout's key '{expected}' for this event"));
        }

        if (envelope.Payload.Length == 0)
        {
            return (null, new("empty_payload", "the envelope carries no payload bytes"));
        }

        var objects = new List<AuditObject>(2) { new(AuditObject.PayloadKind, expected, envelope.Payload) };
        if (envelope.EventType == EventTypes.StoreCreate)
        {
            objects.Add(new(AuditObject.MetadataKind, StorageKeys.RawAuditMetadata(expected), StoreCreateMetadata.For(envelope)));
        }

        return (new RawAuditPlan(envelope.EventId, envelope.StoreId, envelope.EventType, objects), null);
    }
}
