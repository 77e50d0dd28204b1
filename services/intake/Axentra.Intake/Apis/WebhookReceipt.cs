using Axentra.Intake.Domain;

namespace Axentra.Intake.Apis;

/// <summary>The body of a 202 (new event) or 200 (redelivery) answer.</summary>
public sealed record WebhookReceipt(
    string EventId,
    string PayloadHash,
    string EventType,
    string StoreId,
    string? ProductId,
    string S3Key,
    bool Duplicate)
{
    public static WebhookReceipt Of(EventIdentity identity, bool duplicate) =>
        new(identity.EventId, identity.PayloadHash, identity.EventType, identity.StoreId, identity.ProductId, identity.S3Key, duplicate);
}
