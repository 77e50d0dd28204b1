using System.Text.Json;
using System.Text.Json.Nodes;

namespace Axentra.Contracts;

/// <summary>Reads the webhook out of a body as intake received it (the envelope's <see cref="WebhookEnvelope.Payload"/>).</summary>
public static class WebhookPayload
{
    /// <summary>Refuses a member name given twice: intake does (RFC 8785 takes I-JSON only), and a <see cref="JsonObject"/> would throw at first use.</summary>
    private static readonly JsonDocumentOptions Options = new() { AllowDuplicateProperties = false };

    /// <summary>
    /// The webhook as an object (an EventBridge envelope's <c>detail</c>, else the body); null when the body is not a
    /// JSON object with each member name once. Intake accepts no other body, so null means an event from before it
    /// refused them, or not an event of intake's.
    /// </summary>
    public static JsonObject? TryParseObject(ReadOnlyMemory<byte> body)
    {
        try
        {
            return JsonNode.Parse(body.Span, documentOptions: Options) is JsonObject root ? EventBridgeEvent.PayloadOf(root) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
