using System.Text.Json;
using System.Text.Json.Nodes;

namespace Axentra.Contracts;

/// <summary>
/// The event envelope an EventBridge API destination posts when its target has no InputPath or input transformer:
/// <c>{"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}</c>. The webhook
/// is its <c>detail</c>: intake hashes, classifies and reads ids from it, audit and catalog read the event from it.
/// The whole body, envelope included, is what the raw audit trail keeps, byte for byte.
/// </summary>
/// <remarks>
/// Recognised by all of <c>version</c>, <c>id</c>, <c>detail-type</c> and <c>source</c> as strings and <c>detail</c> as
/// an object, so no webhook of the shapes in docs/event-types.md is mistaken for one. Hashing the detail, not the
/// envelope (whose <c>id</c> and <c>time</c> differ per EventBridge event), makes the same change sent twice a
/// duplicate, as it is when posted directly.
/// </remarks>
public static class EventBridgeEvent
{
    private static readonly string[] EnvelopeStrings = ["version", "id", "detail-type", "source"];

    /// <summary>The webhook a body carries: the envelope's <c>detail</c>, or the body itself when it is not an envelope.</summary>
    public static JsonElement PayloadOf(JsonElement root) =>
        IsEnvelope(root) ? root.GetProperty("detail") : root;

    /// <summary>The same on a parsed <see cref="JsonObject"/>.</summary>
    public static JsonObject PayloadOf(JsonObject root) =>
        EnvelopeStrings.All(name => root[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        && root["detail"] is JsonObject detail
            ? detail
            : root;

    public static bool IsEnvelope(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object
        && EnvelopeStrings.All(name => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
        && root.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.Object;
}
