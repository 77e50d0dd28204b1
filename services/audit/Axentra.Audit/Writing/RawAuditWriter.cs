using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Axentra.Audit.Domain;
using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.Bindings;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.Registry;
using Axentra.Contracts;
using Microsoft.Extensions.Options;

namespace Axentra.Audit.Writing;

/// <summary>
/// Subscriber of <c>webhook-events</c> that keeps the immutable raw audit trail: every accepted payload, byte for
/// byte, at <c>{store_id}/{event_type}/{yyyy}/{MM}/{dd}/{event_id}.json</c> in the raw-audit bucket, plus the
/// <c>store_create</c> metadata file, then reports the event as audited.
/// </summary>
/// <remarks>
/// Delivery is at least once, so every object is created only if absent (<see cref="IObjectBucket.PutIfAbsentAsync"/>:
/// atomic in the standalone host, a read and then a write over a Dapr binding): absent → written; the same bytes → a
/// redelivery, nothing to do; different bytes → an alarm.
/// The platform never overwrites nor deletes an audit object, so a conflict is logged (without the payload),
/// counted, recorded on the event as dead-lettered, and dropped: a person decides, the trail is never rewritten.
/// A bucket or registry that is down is a RETRY (backoff, then the dead-letter topic/queue after the budget);
/// only input that can never succeed is a DROP, and a DROP is always recorded first.
/// </remarks>
public sealed partial class RawAuditWriter : IMessageHandler
{
    private readonly IObjectBucket _bucket;
    private readonly EventRegistry _registry;
    private readonly AuditMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<RawAuditWriter> _logger;

    public RawAuditWriter(
        IObjectBuckets buckets, EventRegistry registry, AuditMetrics metrics, IOptions<AuditOptions> options, TimeProvider timeProvider, ILogger<RawAuditWriter> logger)
    {
        _bucket = buckets.Open(options.Value.Bucket);
        _registry = registry;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    public string Subscriber => PlatformNames.AppIds.Audit;

    public string Topic => PlatformNames.Topics.WebhookEvents;

    public async ValueTask<DeliveryOutcome> HandleAsync(ReadOnlyMemory<byte> message, DeliveryContext context, CancellationToken cancellationToken)
    {
        var envelope = Parse(message);
        if (envelope is null)
        {
            return await DropAsync(EventIdOf(message), new("malformed_envelope", "the message is not a webhook envelope"), null, context, cancellationToken).ConfigureAwait(false);
        }

        var (plan, rejection) = RawAuditPlan.For(envelope);
        if (rejection is not null)
        {
            var eventId = SafeKeySegment.IsValid(envelope.EventId) ? envelope.EventId : null;
            return await DropAsync(eventId, rejection, null, context, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            foreach (var auditObject in plan!.Objects)
            {
                if (!await StoreOnceAsync(plan.EventId, auditObject, cancellationToken).ConfigureAwait(false))
                {
                    return await DropAsync(plan.EventId, new("conflict", $"{auditObject.Kind} object '{auditObject.Key}' already holds different bytes; it was kept"),
                        auditObject.Key, context, cancellationToken).ConfigureAwait(false);
                }
            }

            await _registry.ReportStageAsync(new StageRecord
            {
                EventId = plan.EventId,
                Stage = Stages.Audited,
                At = _timeProvider.GetUtcNow(),
                S3Key = plan.ObjectKey,
            }, cancellationToken).ConfigureAwait(false);
            return DeliveryOutcome.Success;
        }
        catch (BackendUnavailableException ex)
        {
            _metrics.Failed("backend_unavailable");
            LogRetry(plan!.EventId, context.Attempt, ex.Backend, ex);
            context.RetryReason = ex.RetryReason;
            return DeliveryOutcome.Retry;
        }
    }

    /// <summary>Writes the object unless it is already there; false when the key holds different bytes.</summary>
    private async Task<bool> StoreOnceAsync(string eventId, AuditObject auditObject, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var existing = await _bucket.PutIfAbsentAsync(auditObject.Key, auditObject.Content, cancellationToken).ConfigureAwait(false);
        _metrics.BucketCall("put_if_absent", Stopwatch.GetElapsedTime(started).TotalMilliseconds);

        if (existing is null)
        {
            _metrics.Written(auditObject.Kind);
            return true;
        }

        if (existing.AsSpan().SequenceEqual(auditObject.Content.Span))
        {
            _metrics.Duplicate(auditObject.Kind);
            LogAlreadyAudited(eventId, auditObject.Key);
            return true;
        }

        // Hashes and sizes identify both versions for the investigation without putting the payload in the logs.
        _metrics.Conflict(auditObject.Kind);
        LogConflict(eventId, auditObject.Key, existing.Length, Convert.ToHexStringLower(SHA256.HashData(existing)),
            auditObject.Content.Length, Convert.ToHexStringLower(SHA256.HashData(auditObject.Content.Span)));
        return false;
    }

    /// <summary>
    /// Records why the event is given up (the registry shows it dead-lettered), then answers DROP. When the record
    /// cannot be written the answer is RETRY instead: the message comes back, fails the same way, and is recorded then.
    /// </summary>
    private async Task<DeliveryOutcome> DropAsync(string? eventId, AuditRejection rejection, string? key, DeliveryContext context, CancellationToken cancellationToken)
    {
        LogDropped(eventId ?? "(none)", context.MessageId, rejection.Code, rejection.Detail);
        var reason = $"{rejection.Code}: {rejection.Detail}";
        context.DropReason = reason;
        if (eventId is not null)
        {
            try
            {
                await _registry.ReportStageAsync(new StageRecord
                {
                    EventId = eventId,
                    Stage = EventRegistry.DeadLetterStage(Subscriber),
                    At = _timeProvider.GetUtcNow(),
                    S3Key = key,
                    Reason = reason,
                    Attempts = context.Attempt,
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (BackendUnavailableException ex)
            {
                _metrics.Failed("backend_unavailable");
                LogRetry(eventId, context.Attempt, ex.Backend, ex);
                context.RetryReason = ex.RetryReason;
                return DeliveryOutcome.Retry;
            }
        }

        _metrics.Failed(rejection.Code);
        return DeliveryOutcome.Drop;
    }

    private static WebhookEnvelope? Parse(ReadOnlyMemory<byte> message)
    {
        try
        {
            var envelope = JsonSerializer.Deserialize(message.Span, ContractsJsonContext.Default.WebhookEnvelope);

            // JSON null for a required member deserialises as null; such an envelope is as malformed as a missing one.
            return envelope is { EventId: not null, StoreId: not null, EventType: not null, S3Key: not null, Payload: not null, GeneratedIds: not null }
                ? envelope
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The event id of a malformed envelope when one can still be read, so the drop lands on its record.</summary>
    private static string? EventIdOf(ReadOnlyMemory<byte> message)
    {
        try
        {
            using var document = JsonDocument.Parse(message);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("event_id", out var id) && id.ValueKind == JsonValueKind.String
                && SafeKeySegment.IsValid(id.GetString()) ? id.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Event {EventId} already audited at {Key}; redelivery ignored")]
    private partial void LogAlreadyAudited(string eventId, string key);

    [LoggerMessage(Level = LogLevel.Critical, Message = "AUDIT CONFLICT for event {EventId}: {Key} already holds {ExistingBytes} bytes (sha256 {ExistingSha256}), the delivery carries {NewBytes} bytes (sha256 {NewSha256}). The stored object was kept; the delivery is dead-lettered")]
    private partial void LogConflict(string eventId, string key, int existingBytes, string existingSha256, int newBytes, string newSha256);

    [LoggerMessage(Level = LogLevel.Error, Message = "Audit dropped message {MessageId} (event {EventId}): {Code}: {Detail}")]
    private partial void LogDropped(string eventId, string messageId, string code, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit of event {EventId} failed on attempt {Attempt} ({Backend} unavailable); asking for redelivery")]
    private partial void LogRetry(string eventId, int attempt, string backend, Exception exception);
}
