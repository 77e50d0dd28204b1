namespace Axentra.Contracts;

/// <summary>
/// What intake publishes on <see cref="PlatformNames.Topics.WebhookEvents"/> for every accepted webhook: the
/// derived identity (so subscribers need no second read) and the payload's exact bytes. The payload travels as
/// bytes (base64 in JSON), never as a re-serialised object, because the audit copy must be byte-identical to
/// what the sender sent.
/// </summary>
public sealed record WebhookEnvelope
{
    public required string EventId { get; init; }
    public required string PayloadHash { get; init; }
    public required string EventType { get; init; }
    public required string StoreId { get; init; }
    public string? ProductId { get; init; }
    public required string S3Key { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }
    public required string DedupeKey { get; init; }

    /// <summary>Which of <c>store_id</c> / <c>product_id</c> the platform generated because the payload lacked them.</summary>
    public IReadOnlyList<string> GeneratedIds { get; init; } = [];

    /// <summary>Downstream topic this event type is routed to, or null when none is configured.</summary>
    public string? RoutingTarget { get; init; }

    /// <summary>
    /// W3C trace context of the request that accepted the event, for transports that carry no headers (the
    /// standalone host's local queue). Dapr carries it in the CloudEvent itself; subscribers there ignore this.
    /// Optional: envelopes published before it existed have none.
    /// </summary>
    [System.Text.Json.Serialization.JsonPropertyName("traceparent")]
    public string? TraceParent { get; init; }

    /// <summary>W3C <c>tracestate</c> accompanying <see cref="TraceParent"/>, when there is one.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("tracestate")]
    public string? TraceState { get; init; }

    /// <summary>The request body exactly as received.</summary>
    public required byte[] Payload { get; init; }

    /// <summary>The envelope in <paramref name="message"/>, or null when it is not one (for listings that show what they can).</summary>
    public static WebhookEnvelope? TryParse(ReadOnlySpan<byte> message)
    {
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize(message, ContractsJsonContext.Default.WebhookEnvelope);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
