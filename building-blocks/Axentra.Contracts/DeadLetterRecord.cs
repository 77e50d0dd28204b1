namespace Axentra.Contracts;

/// <summary>
/// A message one subscriber of <see cref="PlatformNames.Topics.WebhookEvents"/> gave up on in the distributed mode,
/// as intake keeps it in the registry state store (<see cref="RegistryKeys.DeadLetter"/>) after it arrived on the
/// subscriber's dead-letter topic, until a redrive succeeds.
/// </summary>
public sealed record DeadLetterRecord
{
    public required string Subscriber { get; init; }

    /// <summary>The CloudEvent id of the message: the same on every redelivery, so storing is idempotent.</summary>
    public required string MessageId { get; init; }

    /// <summary>The topic the subscriber gave up on (not the dead-letter topic it came through).</summary>
    public required string Topic { get; init; }

    public string? EventId { get; init; }
    public string? EventType { get; init; }
    public string? StoreId { get; init; }

    /// <summary>Why: the subscriber's own reason when it recorded one (a DROP), else the spent retry budget.</summary>
    public required string Reason { get; init; }

    /// <summary>Deliveries the platform counted: the subscriber's own count (or 1), plus one per failed redrive.</summary>
    public required int Attempts { get; init; }

    /// <summary>When intake received the event (the envelope's <c>received_at</c>), when the message is an envelope.</summary>
    public DateTimeOffset? PublishedAt { get; init; }

    public required DateTimeOffset DeadLetteredAt { get; init; }

    /// <summary>
    /// A token unique to the delivery that stored the record (a random prefix per process and a counter). The Dapr state store settles
    /// an ambiguous first-write by comparing bytes (equal bytes are taken as the writer's own), so two deliveries of
    /// one message racing each other must never write equal records, even within one clock tick.
    /// </summary>
    public string? KeptBy { get; init; }

    /// <summary>The message as the subscriber got it (the webhook envelope's JSON): what a redrive hands back.</summary>
    public required byte[] Message { get; init; }
}

/// <summary>The message ids of one subscriber's dead letters, oldest first (<see cref="RegistryKeys.DeadLetterIndex"/>).</summary>
public sealed record DeadLetterIndex(IReadOnlyList<string> MessageIds);
