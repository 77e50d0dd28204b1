using System.Diagnostics;
using System.Text.Json;
using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.Registry;
using Axentra.BuildingBlocks.State;
using Axentra.Catalog.Validation;
using Axentra.Contracts;

namespace Axentra.Catalog.Projection;

/// <summary>
/// The catalog's subscription to <c>webhook-events</c>: validates the event's store and product, applies it to
/// the master and store catalogs, forwards it to its routing target, and reports the <c>catalogued</c> stage
/// (with validation warnings) on the event's registry entry.
/// </summary>
/// <remarks>
/// Outcomes, in the broker's terms: a backend that fails (state store, bucket, pub/sub, Ben's tables) is RETRY,
/// redelivered with backoff and dead-lettered after the attempt budget; input that can never succeed (not an
/// envelope, a payload that is not a JSON object, an unsafe id) is DROP, with the reason recorded first.
/// </remarks>
public sealed partial class CatalogProjector(
    CatalogProjection projection,
    ExistenceValidator validator,
    EventRegistry registry,
    IStateStore state,
    IMessagePublisher publisher,
    CatalogMetrics metrics,
    TimeProvider timeProvider,
    ILogger<CatalogProjector> logger) : IMessageHandler
{
    public string Subscriber => PlatformNames.AppIds.Catalog;

    public string Topic => PlatformNames.Topics.WebhookEvents;

    public async ValueTask<DeliveryOutcome> HandleAsync(ReadOnlyMemory<byte> message, DeliveryContext context, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        WebhookEnvelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize(message.Span, ContractsJsonContext.Default.WebhookEnvelope);
        }
        catch (JsonException ex)
        {
            LogNotAnEnvelope(context.MessageId, ex.Message);
            context.DropReason = "not a webhook envelope";
            return DeliveryOutcome.Drop; // no event id to record it against: the broker's dead letter keeps it
        }

        if (envelope is null || !SafeKeySegment.IsValid(envelope.EventId))
        {
            LogNotAnEnvelope(context.MessageId, "missing or unsafe event_id");
            context.DropReason = "not a webhook envelope: missing or unsafe event_id";
            return DeliveryOutcome.Drop;
        }

        var outcome = "success";
        try
        {
            var result = await HandleEnvelopeAsync(envelope, context, cancellationToken).ConfigureAwait(false);
            outcome = result == DeliveryOutcome.Drop ? "dropped" : "success";
            return result;
        }
        catch (BackendUnavailableException ex)
        {
            outcome = "retry";
            LogBackendUnavailable(envelope.EventId, context.Attempt, ex.Backend, ex);
            context.RetryReason = ex.RetryReason;
            return DeliveryOutcome.Retry;
        }
        finally
        {
            metrics.Handled(envelope.EventType, outcome, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private async ValueTask<DeliveryOutcome> HandleEnvelopeAsync(WebhookEnvelope envelope, DeliveryContext context, CancellationToken cancellationToken)
    {
        if (!SafeKeySegment.IsValid(envelope.StoreId) || (envelope.ProductId is not null && !SafeKeySegment.IsValid(envelope.ProductId))
            || (EventTypes.IsProductEvent(envelope.EventType) && envelope.ProductId is null))
        {
            return await DropAsync(envelope, "store_id/product_id missing or not a safe key segment", context, cancellationToken).ConfigureAwait(false);
        }

        if (!EventTypes.IsProductEvent(envelope.EventType) && !EventTypes.IsStoreEvent(envelope.EventType))
        {
            await RouteAsync(envelope, cancellationToken).ConfigureAwait(false);
            await ReportAsync(envelope, $"skipped: event type '{envelope.EventType}' is not catalogued", [], cancellationToken).ConfigureAwait(false);
            return DeliveryOutcome.Success;
        }

        if (WebhookPayload.TryParseObject(envelope.Payload) is not { } payload)
        {
            return await DropAsync(envelope, "the payload is not a JSON object with each member name once", context, cancellationToken).ConfigureAwait(false);
        }

        var warnings = new List<string>(await validator.ValidateAsync(envelope, cancellationToken).ConfigureAwait(false));
        var effect = EventTypes.IsProductEvent(envelope.EventType)
            ? await projection.ApplyProductEventAsync(envelope, payload, cancellationToken).ConfigureAwait(false)
            : await projection.ApplyStoreEventAsync(envelope, payload, cancellationToken).ConfigureAwait(false);
        warnings.AddRange(effect.Warnings);

        var routed = await RouteAsync(envelope, cancellationToken).ConfigureAwait(false);
        var summary = effect.KbRefreshMessages > 0 ? $"{effect.Summary}; KB refresh published" : effect.Summary;
        await ReportAsync(envelope, routed is null ? summary : $"{summary}; routed to {routed}", warnings, cancellationToken).ConfigureAwait(false);
        metrics.Warnings(warnings.Count);
        LogCatalogued(envelope.EventId, envelope.EventType, summary, warnings.Count);
        return DeliveryOutcome.Success;
    }

    /// <summary>
    /// Forwards the envelope, unchanged, to the routing target intake decided and recorded (config
    /// <c>Routing:Targets:{event_type}</c>). Once per event: a marker in the state store keeps a redelivery from
    /// forwarding again (a crash between the publish and the marker forwards twice: at least once downstream).
    /// </summary>
    private async ValueTask<string?> RouteAsync(WebhookEnvelope envelope, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(envelope.RoutingTarget))
        {
            return null;
        }

        var markerKey = CatalogStateKeys.Routed(envelope.EventId);
        if (await state.GetAsync(markerKey, cancellationToken).ConfigureAwait(false) is null)
        {
            await publisher.PublishAsync(
                envelope.RoutingTarget, JsonSerializer.SerializeToUtf8Bytes(envelope, ContractsJsonContext.Default.WebhookEnvelope), cancellationToken).ConfigureAwait(false);
            await state.SaveJsonAsync(
                markerKey, new RoutedMarker(envelope.RoutingTarget, timeProvider.GetUtcNow()), CatalogJsonContext.Default.RoutedMarker, RegistryKeys.Retention, cancellationToken).ConfigureAwait(false);
        }

        return envelope.RoutingTarget;
    }

    private ValueTask ReportAsync(WebhookEnvelope envelope, string reason, IReadOnlyList<string> warnings, CancellationToken cancellationToken) =>
        registry.ReportStageAsync(new StageRecord
        {
            EventId = envelope.EventId,
            Stage = Stages.Catalogued,
            At = timeProvider.GetUtcNow(),
            Warnings = warnings,
            Reason = reason,
        }, cancellationToken);

    private async ValueTask<DeliveryOutcome> DropAsync(WebhookEnvelope envelope, string reason, DeliveryContext context, CancellationToken cancellationToken)
    {
        LogDropped(envelope.EventId, reason);
        context.DropReason = reason;
        await registry.ReportStageAsync(new StageRecord
        {
            EventId = envelope.EventId,
            Stage = EventRegistry.DeadLetterStage(Subscriber),
            At = timeProvider.GetUtcNow(),
            Reason = $"{Subscriber}: dropped as poison input: {reason}",
        }, cancellationToken).ConfigureAwait(false);
        return DeliveryOutcome.Drop;
    }

    // Debug: one line per event is the registry's job (GET /events/{id} shows the same summary as the catalogued stage).
    [LoggerMessage(Level = LogLevel.Debug, Message = "Event {EventId} ({EventType}) catalogued: {Summary}; {WarningCount} warnings")]
    private partial void LogCatalogued(string eventId, string eventType, string summary, int warningCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId}: backend {Backend} unavailable on attempt {Attempt}; asking for redelivery")]
    private partial void LogBackendUnavailable(string eventId, int attempt, string backend, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Message {MessageId} is not a webhook envelope ({Problem}); dropped")]
    private partial void LogNotAnEnvelope(string messageId, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "Event {EventId} dropped as poison input: {Reason}")]
    private partial void LogDropped(string eventId, string reason);
}
