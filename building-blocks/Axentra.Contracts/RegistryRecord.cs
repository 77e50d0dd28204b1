namespace Axentra.Contracts;

/// <summary>
/// The registry entry of one event (the seed's <c>axentra-webhook-events</c> item), written by intake before the
/// event is published. Stage progress (audited, catalogued, dead-lettered) is kept in separate
/// <see cref="StageRecord"/> entries so services never contend on one item.
/// </summary>
public sealed record RegistryRecord
{
    public required string EventId { get; init; }
    public required string PayloadHash { get; init; }

    /// <summary>ISO 8601 receipt time (UTC).</summary>
    public required string ProcessingTimestamp { get; init; }
    public required string EventType { get; init; }
    public required string StoreId { get; init; }
    public string? ProductId { get; init; }
    public required string S3Key { get; init; }
    public required string Status { get; init; }
    public string? RoutingTarget { get; init; }

    /// <summary>Expiry, epoch seconds (7 years after receipt).</summary>
    public required long Ttl { get; init; }
    public required string DedupeKey { get; init; }
    public IReadOnlyList<string> GeneratedIds { get; init; } = [];

    /// <summary>Redeliveries answered with this event (counted by intake, flushed about once a second).</summary>
    public long DuplicateCount { get; init; }

    public DateTimeOffset? LastDuplicateAt { get; init; }
}

/// <summary>Points a payload hash at the latest event registered with it (look-up by <c>payload_hash</c>).</summary>
public sealed record PayloadHashIndex(string PayloadHash, string EventId);

/// <summary>One stage an event went through after intake.</summary>
public sealed record StageRecord
{
    public required string EventId { get; init; }
    public required string Stage { get; init; }
    public required DateTimeOffset At { get; init; }
    public string? S3Key { get; init; }
    public IReadOnlyList<string> Warnings { get; init; } = [];
    public string? Reason { get; init; }
    public int? Attempts { get; init; }
}

public static class RegistryStatus
{
    public const string Accepted = "accepted";
}

public static class Stages
{
    public const string Received = "received";
    public const string Audited = "audited";
    public const string Catalogued = "catalogued";
    public const string DeadLettered = "dead_lettered";

    /// <summary>An operator closed a dead letter without a redrive (<c>resolved:{app}</c>, with the operator's reason).</summary>
    public const string Resolved = "resolved";
}

/// <summary>Keys of registry entries in the registry state store.</summary>
public static class RegistryKeys
{
    public static string Event(string eventId) => $"event:{eventId}";

    public static string Stage(string eventId, string stage) => $"event:{eventId}:{stage}";

    public static string PayloadHash(string payloadHash) => $"payload-hash:{payloadHash}";

    /// <summary>A dead letter of one subscriber (distributed mode), kept by intake until a redrive succeeds.</summary>
    public static string DeadLetter(string subscriber, string messageId) => $"dead-letter:{subscriber}:{messageId}";

    /// <summary>
    /// The message ids of one subscriber's dead letters, oldest first: Dapr state has no listing, so intake keeps
    /// this one bounded item beside the records and changes it only with ETag-guarded writes.
    /// </summary>
    public static string DeadLetterIndex(string subscriber) => $"dead-letters:{subscriber}";

    /// <summary>7 years, the HIPAA retention the registry and the audit trail keep.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(7 * 365 + 2);
}
