using System.Text;
using System.Text.Json;
using Axentra.BuildingBlocks.State;
using Axentra.Contracts;

namespace Axentra.Audit.Tests.Support;

/// <summary>Envelopes as intake publishes them: the key computed by the shared layout, the payload as exact bytes.</summary>
internal static class Envelopes
{
    public static readonly DateTimeOffset Noon = new(2025, 12, 9, 12, 0, 0, TimeSpan.Zero);

    public static WebhookEnvelope For(
        string payload,
        string eventType = EventTypes.ProductCreate,
        string storeId = "223e4567-e89b-12d3-a456-426614174000",
        string? productId = null,
        DateTimeOffset? receivedAt = null,
        string? eventId = null,
        IReadOnlyList<string>? generatedIds = null) =>
        For(Encoding.UTF8.GetBytes(payload), eventType, storeId, productId, receivedAt, eventId, generatedIds);

    public static WebhookEnvelope For(
        byte[] payload,
        string eventType = EventTypes.ProductCreate,
        string storeId = "223e4567-e89b-12d3-a456-426614174000",
        string? productId = null,
        DateTimeOffset? receivedAt = null,
        string? eventId = null,
        IReadOnlyList<string>? generatedIds = null)
    {
        var at = receivedAt ?? Noon;
        var id = eventId ?? $"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(payload))[..16]}-{at.ToUnixTimeSeconds()}";
        return new WebhookEnvelope
        {
            EventId = id,
            PayloadHash = new string('a', 64),
            EventType = eventType,
            StoreId = storeId,
            ProductId = productId,
            S3Key = StorageKeys.RawAuditObject(storeId, eventType, at, id),
            ReceivedAt = at,
            DedupeKey = "payload-hash:" + new string('a', 64),
            GeneratedIds = generatedIds ?? [],
            Payload = payload,
        };
    }

    public static byte[] Serialize(WebhookEnvelope envelope) =>
        JsonSerializer.SerializeToUtf8Bytes(envelope, ContractsJsonContext.Default.WebhookEnvelope);

    /// <summary>Writes the envelope's registry record as intake does before publishing.</summary>
    public static async Task RegisterAsync(IStateStore state, WebhookEnvelope envelope) =>
        await state.SaveJsonAsync(RegistryKeys.Event(envelope.EventId), RecordOf(envelope), ContractsJsonContext.Default.RegistryRecord, null, TestContext.Current.CancellationToken);

    /// <summary>A registry record for the envelope, as intake writes it before publishing.</summary>
    public static RegistryRecord RecordOf(WebhookEnvelope envelope) => new()
    {
        EventId = envelope.EventId,
        PayloadHash = envelope.PayloadHash,
        ProcessingTimestamp = envelope.ReceivedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        EventType = envelope.EventType,
        StoreId = envelope.StoreId,
        ProductId = envelope.ProductId,
        S3Key = envelope.S3Key,
        Status = RegistryStatus.Accepted,
        Ttl = (envelope.ReceivedAt + RegistryKeys.Retention).ToUnixTimeSeconds(),
        DedupeKey = envelope.DedupeKey,
        GeneratedIds = envelope.GeneratedIds,
    };
}
