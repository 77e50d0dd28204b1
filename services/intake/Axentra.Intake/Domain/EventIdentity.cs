using Axentra.Classification;
using Axentra.Contracts;

namespace Axentra.Intake.Domain;

/// <summary>
/// The identity intake answers with and every later stage uses: fixed at the first delivery and reused by
/// every redelivery and by a takeover of an abandoned claim.
/// </summary>
public sealed record EventIdentity
{
    public required string EventId { get; init; }
    public required string PayloadHash { get; init; }
    public required string EventType { get; init; }
    public required string StoreId { get; init; }
    public string? ProductId { get; init; }
    public required string S3Key { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary><c>{first 16 hex of payload_hash}-{unix seconds of receipt}</c>, as in the seed.</summary>
    public static string EventIdOf(string payloadHash, DateTimeOffset receivedAt) =>
        $"{payloadHash[..16]}-{receivedAt.ToUnixTimeSeconds()}";

    public static EventIdentity Create(ClassifiedWebhook webhook, DateTimeOffset receivedAt)
    {
        var receipt = receivedAt.ToUniversalTime();
        var eventId = EventIdOf(webhook.PayloadHash, receipt);
        return new EventIdentity
        {
            EventId = eventId,
            PayloadHash = webhook.PayloadHash,
            EventType = webhook.EventType,
            StoreId = webhook.StoreId,
            ProductId = webhook.ProductId,
            S3Key = StorageKeys.RawAuditObject(webhook.StoreId, webhook.EventType, receipt, eventId),
            ReceivedAt = receipt,
        };
    }
}
