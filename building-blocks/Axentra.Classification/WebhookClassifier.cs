using System.Text.Json;
using Axentra.Contracts;

namespace Axentra.Classification;

/// <summary>What intake derives from an accepted body before anything is stored.</summary>
public sealed record ClassifiedWebhook(
    string PayloadHash,
    string DedupeKey,
    string EventType,
    string DetectionRule,
    string StoreId,
    string? ProductId,
    IReadOnlyList<string> GeneratedIds)
{
    /// <summary>Deduplicated by its payload hash (it came without a <c>webhook-id</c>), not by a sender's id.</summary>
    public bool DedupedByPayloadHash => DedupeKey.StartsWith(WebhookClassifier.PayloadHashKeyPrefix, StringComparison.Ordinal);
}

/// <summary>Why a body was refused (a 400): a stable machine-readable code and a sentence for people.</summary>
public sealed record WebhookRejection(string Code, string Detail);

/// <summary>
/// Parses, bounds, hashes and classifies a webhook body: a pure function of the bytes and the
/// <c>webhook-id</c> header, so every rule here is unit-tested without a server.
/// </summary>
public static class WebhookClassifier
{
    /// <summary>Deepest nesting accepted (objects and arrays).</summary>
    public const int MaxDepth = 64;

    public const int MaxWebhookIdLength = 256;

    /// <summary>The dedupe key of a webhook without a <c>webhook-id</c> is this prefix and its payload hash.</summary>
    public const string PayloadHashKeyPrefix = "payload-hash:";

    /// <summary>The dedupe key of a webhook deduplicated by its payload hash.</summary>
    public static string PayloadHashDedupeKey(string payloadHash) => PayloadHashKeyPrefix + payloadHash;

    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = MaxDepth };

    public static (ClassifiedWebhook? Webhook, WebhookRejection? Rejection) Classify(ReadOnlyMemory<byte> body, string? webhookId)
    {
        if (webhookId is not null && !IsValidWebhookId(webhookId))
        {
            return (null, new("invalid_webhook_id", $"The webhook-id header must be 1 to {MaxWebhookIdLength} printable ASCII characters."));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, ParseOptions);
        }
        catch (JsonException ex) when (ex.Message.Contains("maximum configured depth", StringComparison.OrdinalIgnoreCase))
        {
            return (null, new("too_deep", $"The JSON nests deeper than {MaxDepth} levels."));
        }
        catch (JsonException ex)
        {
            return (null, new("malformed_json", $"The body is not valid JSON: {ex.Message}"));
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, new("not_an_object", $"The JSON root must be an object, not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}."));
            }

            // The webhook itself: an EventBridge envelope's detail, else the body.
            var envelope = EventBridgeEvent.IsEnvelope(document.RootElement);
            var root = envelope ? document.RootElement.GetProperty("detail") : document.RootElement;

            // First, so nothing below reads a string that is not valid Unicode. An envelope is checked whole: audit
            // and catalog read it again, and must not meet a member name twice in it.
            string payloadHash;
            try
            {
                payloadHash = CanonicalJson.Sha256Hex(root);
                if (envelope)
                {
                    CanonicalJson.EnsureIJson(document.RootElement);
                }
            }
            catch (NotIJsonException ex)
            {
                return (null, new(ex.Code, $"The body has no canonical form (RFC 8785 takes I-JSON only): {ex.Message}"));
            }

            var (ids, idError) = IdExtractor.Extract(root);
            if (idError is not null)
            {
                return (null, new("invalid_id", idError));
            }

            var dedupeKey = webhookId is null ? PayloadHashDedupeKey(payloadHash) : $"webhook-id:{webhookId}";
            var (eventType, rule) = EventTypeDetector.DetectWithRule(root);

            var generated = new List<string>(2);
            var storeId = ids!.StoreId;
            if (storeId is null)
            {
                storeId = DeterministicIds.StoreId(dedupeKey);
                generated.Add("store_id");
            }

            var productId = ids.ProductId;
            if (productId is null && EventTypes.IsProductEvent(eventType))
            {
                productId = DeterministicIds.ProductId(dedupeKey);
                generated.Add("product_id");
            }

            return (new ClassifiedWebhook(payloadHash, dedupeKey, eventType, rule, storeId, productId, generated), null);
        }
    }

    private static bool IsValidWebhookId(string value) =>
        value.Length is > 0 and <= MaxWebhookIdLength && value.All(c => c is >= '!' and <= '~');
}
