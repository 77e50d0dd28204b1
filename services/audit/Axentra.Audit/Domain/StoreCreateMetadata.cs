using System.Text.Json;
using Axentra.Contracts;

namespace Axentra.Audit.Domain;

/// <summary>
/// The <c>{event_id}.metadata.json</c> file written beside a <c>store_create</c> payload:
/// <c>{"metadataAttributes":{"store":…,"store_id":…,"product_id":…}}</c> (the seed's multitenancy tag, in the
/// shape Bedrock knowledge bases read metadata attributes).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>store</c> is the payload's <c>store_domain</c>, looked up in <see cref="StoreDomainLocations"/> order;
/// the first non-empty string wins. Without one it is the <c>store_id</c>: every attribute keeps a string value (a
/// metadata attribute may not be null), and a filter on <c>store</c> still matches all of a store's files.</item>
/// <item><c>store_id</c> is the envelope's, which is the key's partition (generated when the payload had none).</item>
/// <item><c>product_id</c> appears only when the payload carried one: never a generated id.</item>
/// </list>
/// The bytes are a function of the envelope alone, so a redelivery writes exactly the same file.
/// </remarks>
public static class StoreCreateMetadata
{
    /// <summary>Where <c>store_domain</c> may sit, in precedence order.</summary>
    public static IReadOnlyList<string[]> StoreDomainLocations { get; } =
    [
        ["store_domain"],                  // the seed's store events
        ["record", "store_domain"],        // Supabase database webhook on `stores` (INSERT/UPDATE)
        ["old_record", "store_domain"],    // … and its DELETE shape, where record is null
        ["store", "store_domain"],         // a nested store object
    ];

    public static byte[] For(WebhookEnvelope envelope)
    {
        var domain = FindStoreDomain(envelope.Payload);
        var productId = envelope.ProductId is { } id && !envelope.GeneratedIds.Contains("product_id", StringComparer.Ordinal) ? id : null;

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("metadataAttributes");
            writer.WriteString("store", domain ?? envelope.StoreId);
            writer.WriteString("store_id", envelope.StoreId);
            if (productId is not null)
            {
                writer.WriteString("product_id", productId);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The payload's <c>store_domain</c>, or null when it has none (or is not a JSON object).</summary>
    public static string? FindStoreDomain(ReadOnlyMemory<byte> payload)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(payload);
        }
        catch (JsonException)
        {
            return null; // intake accepted it as JSON; if not, the raw bytes are still audited, only without a domain
        }

        using (document)
        {
            foreach (var path in StoreDomainLocations)
            {
                if (Find(EventBridgeEvent.PayloadOf(document.RootElement), path) is { ValueKind: JsonValueKind.String } value && value.GetString() is { } text
                    && !string.IsNullOrWhiteSpace(text))
                {
                    return text;
                }
            }

            return null;
        }
    }

    private static JsonElement? Find(JsonElement element, string[] path)
    {
        foreach (var name in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element))
            {
                return null;
            }
        }

        return element;
    }
}
