using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.Registry;
using Axentra.BuildingBlocks.State;
using Axentra.Contracts;
using Microsoft.Extensions.Options;

namespace Axentra.Intake.DeadLetters;

/// <summary>Section <c>Intake:DeadLetters</c>: how many dead letters intake keeps per subscriber (distributed mode).</summary>
public sealed class DeadLetterOptions
{
    public const string Section = "Intake:DeadLetters";

    /// <summary>
    /// The bound of each subscriber's index item (one registry item, so it stays far below DynamoDB's 400 KB).
    /// A dead letter that finds the index full is not acknowledged: it waits in intake's queue (and then its SQS
    /// DLQ) until operators redrive or resolve some.
    /// </summary>
    [Range(1, 5000)]
    public int MaxPerSubscriber { get; set; } = 1000;
}

/// <summary>
/// The distributed mode's dead letters, kept by intake in the registry state store: one record per message
/// (<see cref="RegistryKeys.DeadLetter"/>) and, because Dapr state has no listing, one bounded index item per
/// subscriber (<see cref="RegistryKeys.DeadLetterIndex"/>) changed only by ETag-guarded read-modify-write.
/// Messages arrive on the subscribers' dead-letter topics (<see cref="DeadLetterInbox"/>); a redrive hands one back to
/// its subscriber's own subscription route through Dapr service invocation and forgets it once the subscriber
/// answers SUCCESS.
/// </summary>
public sealed partial class RegistryDeadLetters(
    IStateStore state,
    EventRegistry registry,
    IDirectDelivery delivery,
    IOptions<DeadLetterOptions> options,
    DeadLetterMetrics metrics,
    TimeProvider timeProvider,
    ILogger<RegistryDeadLetters> logger) : IDeadLetters
{
    /// <summary>The reason recorded when the subscriber did not record one: the sidecar gave up retrying.</summary>
    public const string RetryBudgetSpent = "retry budget of the resiliency policy exhausted";

    private const int IndexWriteAttempts = 5;

    /// <summary>Per subscriber, the ETag of the last full index <see cref="PruneIndexAsync"/> found nothing to drop from.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _fullIndexChecked = new(StringComparer.Ordinal);

    /// <summary>
    /// Keeps a message that arrived on <paramref name="subscriber"/>'s dead-letter topic: its record, its place in the
    /// index, and the event's <c>dead_lettered:{subscriber}</c> stage when the subscriber did not record one (a DROP
    /// does, with its reason). The same message delivered again is kept once. A dead letter of an event the subscriber
    /// has handled since (another copy of it succeeded) is not kept: there is nothing left to redrive.
    /// </summary>
    /// <returns>Success when kept (or nothing to keep); Retry when the index is full or kept changing under us.</returns>
    public async ValueTask<DeliveryOutcome> KeepAsync(string subscriber, string messageId, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        var id = StorableId(messageId);
        var index = await ReadIndexAsync(subscriber, cancellationToken).ConfigureAwait(false);
        if (index.Ids.Contains(id))
        {
            return DeliveryOutcome.Success; // a redelivery of one we keep
        }

        var envelope = WebhookEnvelope.TryParse(message.Span);
        var eventId = SafeKeySegment.IsValid(envelope?.EventId) ? envelope!.EventId : null;
        var (reason, attempts, dropped) = (RetryBudgetSpent, 1, false);
        if (eventId is not null)
        {
            var stages = (await registry.GetAsync(eventId, cancellationToken).ConfigureAwait(false))?.Stages ?? [];
            var recorded = stages.FirstOrDefault(s => s.Stage == EventRegistry.DeadLetterStage(subscriber));
            var handled = EventRegistry.SuccessStageOf(subscriber) is { } success && stages.Any(s => s.Stage == success);
            // Closed since it was recorded: handled, or resolved by an operator (a redelivery of a message resolved since
            // must not come back); a DROP after that records a new stage, which is open.
            if (recorded is not null ? !EventRegistry.IsOpen(recorded, stages) : handled)
            {
                LogAlreadyHandled(subscriber, id, eventId);
                return DeliveryOutcome.Success;
            }

            if (recorded is not null)
            {
                (reason, attempts) = (recorded.Reason ?? reason, recorded.Attempts ?? attempts);
                dropped = recorded.Reason is not (null or RetryBudgetSpent); // the subscriber's DROP recorded why
            }
            else
            {
                await registry.RecordAsync(subscriber, message, reason, attempts, cancellationToken).ConfigureAwait(false);
            }
        }

        if (index.Ids.Count >= options.Value.MaxPerSubscriber && !await PruneIndexAsync(subscriber, index, cancellationToken).ConfigureAwait(false))
        {
            LogIndexFull(subscriber, id, options.Value.MaxPerSubscriber);
            return DeliveryOutcome.Retry;
        }

        var record = new DeadLetterRecord
        {
            Subscriber = subscriber,
            MessageId = id,
            Topic = PlatformNames.Topics.WebhookEvents,
            EventId = eventId,
            EventType = envelope?.EventType,
            StoreId = envelope?.StoreId,
            Reason = reason,
            Attempts = attempts,
            PublishedAt = envelope?.ReceivedAt,
            DeadLetteredAt = timeProvider.GetUtcNow(),
            KeptBy = UniqueTokens.Next(),
            Message = message.ToArray(),
        };

        // Record first, then the index: a crash in between leaves a record the redelivery indexes (the first-write
        // then finds the record and keeps it as it was).
        var created = await state.TrySaveJsonAsync(RegistryKeys.DeadLetter(subscriber, id), record, ContractsJsonContext.Default.DeadLetterRecord, null, RegistryKeys.Retention, cancellationToken)
            .ConfigureAwait(false) == SaveOutcome.Saved;
        if (created)
        {
            // Counted by the delivery that created the record, once, even when deliveries of the message race: the
            // index below cannot tell them apart (the state store settles an ambiguous first-write by comparing
            // values, and racing writers of the index write the same list), the record's delivery token can.
            metrics.DeadLettered(subscriber, dropped);
        }

        var added = false;
        var indexed = await ChangeIndexAsync(subscriber, ids =>
        {
            added = false;
            if (ids.Contains(id))
            {
                return IndexChange.None;
            }

            if (ids.Count >= options.Value.MaxPerSubscriber)
            {
                return IndexChange.Refused;
            }

            ids.Add(id);
            added = true;
            return IndexChange.Changed;
        }, cancellationToken).ConfigureAwait(false);
        if (!indexed)
        {
            return DeliveryOutcome.Retry;
        }

        // Logged by the delivery that created the record or put it in the index (a redelivery after a crash between
        // the two); racing deliveries may both log it, the counter above counts it once.
        if (created || added)
        {
            LogKept(subscriber, id, eventId ?? "(none)", reason);
        }

        return DeliveryOutcome.Success;
    }

    public async ValueTask<IReadOnlyList<DeadLetter>> ListAsync(string? subscriber, int limit, CancellationToken cancellationToken)
    {
        var list = new List<DeadLetter>();
        foreach (var app in subscriber is null ? PlatformNames.AppIds.WebhookEventSubscribers : [subscriber])
        {
            foreach (var id in (await ReadIndexAsync(app, cancellationToken).ConfigureAwait(false)).Ids)
            {
                if (list.Count == limit)
                {
                    return list;
                }

                if (await ReadAsync(app, id, cancellationToken).ConfigureAwait(false) is { } entry)
                {
                    var r = entry.Record;
                    list.Add(new DeadLetter(r.Subscriber, r.MessageId, r.Topic, r.EventId, r.EventType, r.StoreId, r.Attempts, r.Reason, r.PublishedAt, r.DeadLetteredAt));
                }
            }
        }

        return list;
    }

    /// <summary>
    /// Hands each dead letter back to its subscriber, one at a time, and waits for the answer: SUCCESS forgets it;
    /// RETRY or DROP keeps it with one more attempt and the new reason. The sidecar being unreachable stops the
    /// redrive (<see cref="BackendUnavailableException"/>) with what was done so far kept.
    /// </summary>
    public async ValueTask<DeadLetterRedrive> RedriveAsync(string? subscriber, string? messageId, CancellationToken cancellationToken)
    {
        var (redriven, resolved) = (0, 0);
        foreach (var app in subscriber is null ? PlatformNames.AppIds.WebhookEventSubscribers : [subscriber])
        {
            var ids = messageId is not null ? [messageId] : (await ReadIndexAsync(app, cancellationToken).ConfigureAwait(false)).Ids;
            foreach (var id in ids)
            {
                // Before the read: a resolution that lands while this redrive is under way is newer than it (KeepResolutionAsync).
                var started = timeProvider.GetUtcNow();
                if (await ReadAsync(app, id, cancellationToken).ConfigureAwait(false) is not { } entry)
                {
                    continue;
                }

                redriven++;
                if (await RedriveOneAsync(entry.Record, entry.ETag, started, cancellationToken).ConfigureAwait(false))
                {
                    resolved++;
                }
            }
        }

        return new DeadLetterRedrive(redriven, resolved);
    }

    private async Task<bool> RedriveOneAsync(DeadLetterRecord record, string etag, DateTimeOffset started, CancellationToken cancellationToken)
    {
        var result = await delivery.DeliverAsync(record.Subscriber, record.Topic, record.MessageId, record.Message, cancellationToken).ConfigureAwait(false);
        var key = RegistryKeys.DeadLetter(record.Subscriber, record.MessageId);
        if (result.Outcome == DeliveryOutcome.Success)
        {
            await ForgetAsync(record, etag: null, cancellationToken).ConfigureAwait(false);
            LogRedriven(record.Subscriber, record.MessageId, record.EventId ?? "(none)");
            return true;
        }

        // A DROP records its own, precise reason on the event: prefer it to "answered DROP".
        var reason = result.Problem ?? result.Outcome.ToString();
        if (record.EventId is not null && result.Outcome == DeliveryOutcome.Drop
            && await registry.GetAsync(record.EventId, cancellationToken).ConfigureAwait(false) is { } view
            && view.Stages.FirstOrDefault(s => s.Stage == EventRegistry.DeadLetterStage(record.Subscriber)) is { Reason: { } dropped } stage
            && stage.At >= started)
        {
            reason = dropped;
        }

        var updated = record with { Attempts = record.Attempts + 1, Reason = $"redrive: {reason}" };
        if (await state.TrySaveJsonAsync(key, updated, ContractsJsonContext.Default.DeadLetterRecord, etag, RegistryKeys.Retention, cancellationToken).ConfigureAwait(false)
            != SaveOutcome.Saved && record.EventId is not null)
        {
            await KeepResolutionAsync(record, started, cancellationToken).ConfigureAwait(false);
        }

        LogRedriveFailed(record.Subscriber, record.MessageId, record.EventId ?? "(none)", reason);
        return false;
    }

    /// <summary>
    /// The event records the resolution first, then the dead letter is forgotten: a crash in between leaves it listed,
    /// and resolving it again records the stage again and finishes. The record is deleted on the ETag it was read
    /// with, so of two resolutions racing for one dead letter one deletes it and is counted; the other finds it gone
    /// and is answered as resolved too. A record that moved on meanwhile (a redrive's attempt) is resolved as it is now.
    /// </summary>
    public async ValueTask<bool> ResolveAsync(string subscriber, string messageId, string reason, CancellationToken cancellationToken)
    {
        var found = false;
        while (await ReadAsync(subscriber, messageId, cancellationToken).ConfigureAwait(false) is { } entry)
        {
            found = true;
            var record = entry.Record;
            if (record.EventId is not null)
            {
                await registry.RecordResolutionAsync(subscriber, record.EventId, reason, cancellationToken).ConfigureAwait(false);
            }

            if (await ForgetAsync(record, entry.ETag, cancellationToken).ConfigureAwait(false))
            {
                metrics.Resolved(subscriber);
                LogResolved(subscriber, record.MessageId, record.EventId ?? "(none)", reason);
                return true;
            }
        }

        return found;
    }

    /// <summary>
    /// An operator resolved the dead letter while its redrive was in flight (the record is gone and a resolution is
    /// newer than the redrive): the resolution stands. A DROP answered meanwhile recorded a dead-letter stage after it,
    /// which would show the event dead-lettered with nothing listed, so the resolution is recorded again, after it.
    /// </summary>
    private async Task KeepResolutionAsync(DeadLetterRecord record, DateTimeOffset redriveStarted, CancellationToken cancellationToken)
    {
        if (await ReadAsync(record.Subscriber, record.MessageId, cancellationToken).ConfigureAwait(false) is not null
            || await registry.GetAsync(record.EventId!, cancellationToken).ConfigureAwait(false) is not { } view
            || view.Stages.FirstOrDefault(s => s.Stage == EventRegistry.ResolvedStage(record.Subscriber)) is not { } resolution
            || resolution.At < redriveStarted)
        {
            return;
        }

        await registry.RecordResolutionAsync(record.Subscriber, record.EventId!, resolution.Reason ?? "resolved", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A full index may name records that are gone: a redrive or resolution deleted the record, then lost every race
    /// for the index. Drops those ids; true when that made room. It reads every record the index names, so an index
    /// found with nothing to drop is not read again until it changes (its ETag): a full index stays full while the
    /// subscriber keeps failing, and each further dead letter must not cost a thousand reads of the registry table.
    /// </summary>
    private async Task<bool> PruneIndexAsync(string subscriber, (List<string> Ids, string? ETag) index, CancellationToken cancellationToken)
    {
        if (index.ETag is not null && _fullIndexChecked.TryGetValue(subscriber, out var checkedETag) && checkedETag == index.ETag)
        {
            return false;
        }

        var gone = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in index.Ids)
        {
            if (await ReadAsync(subscriber, id, cancellationToken).ConfigureAwait(false) is null)
            {
                gone.Add(id);
            }
        }

        if (gone.Count == 0)
        {
            if (index.ETag is not null)
            {
                _fullIndexChecked[subscriber] = index.ETag;
            }

            return false;
        }

        var dropped = await ChangeIndexAsync(subscriber, current => current.RemoveAll(gone.Contains) > 0 ? IndexChange.Changed : IndexChange.None, cancellationToken)
            .ConfigureAwait(false);
        if (dropped)
        {
            LogIndexPruned(subscriber, gone.Count);
        }

        return dropped;
    }

    /// <summary>Deletes the record whatever else touched it meanwhile, then drops it from the index.</summary>
    /// <summary>
    /// Deletes the record (on <paramref name="etag"/> when given: false, with nothing changed, when it moved on or went)
    /// and takes its id out of the subscriber's index.
    /// </summary>
    private async Task<bool> ForgetAsync(DeadLetterRecord record, string? etag, CancellationToken cancellationToken)
    {
        if (!await state.TryDeleteAsync(RegistryKeys.DeadLetter(record.Subscriber, record.MessageId), etag, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        if (!await ChangeIndexAsync(record.Subscriber, ids => ids.Remove(record.MessageId) ? IndexChange.Changed : IndexChange.None, cancellationToken).ConfigureAwait(false))
        {
            _fullIndexChecked.TryRemove(record.Subscriber, out _); // its id stays behind: the next full index is worth pruning
        }

        return true;
    }

    private async Task<(DeadLetterRecord Record, string ETag)?> ReadAsync(string subscriber, string messageId, CancellationToken cancellationToken) =>
        SafeKeySegment.IsValid(messageId)
            ? await state.GetJsonAsync(RegistryKeys.DeadLetter(subscriber, messageId), ContractsJsonContext.Default.DeadLetterRecord, cancellationToken).ConfigureAwait(false)
            : null;

    private async Task<(List<string> Ids, string? ETag)> ReadIndexAsync(string subscriber, CancellationToken cancellationToken)
    {
        var index = await state.GetJsonAsync(RegistryKeys.DeadLetterIndex(subscriber), ContractsJsonContext.Default.DeadLetterIndex, cancellationToken).ConfigureAwait(false);
        return index is { } found ? ([.. found.Value.MessageIds], found.ETag) : ([], null);
    }

    private enum IndexChange
    {
        None,
        Changed,
        Refused,
    }

    /// <summary>Read-modify-write of a subscriber's index on its ETag; false when refused or when it kept moving.</summary>
    private async Task<bool> ChangeIndexAsync(string subscriber, Func<List<string>, IndexChange> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < IndexWriteAttempts; attempt++)
        {
            var (ids, etag) = await ReadIndexAsync(subscriber, cancellationToken).ConfigureAwait(false);
            switch (change(ids))
            {
                case IndexChange.None:
                    return true;
                case IndexChange.Refused:
                    return false;
            }

            var saved = await state.TrySaveJsonAsync(
                RegistryKeys.DeadLetterIndex(subscriber), new DeadLetterIndex(ids), ContractsJsonContext.Default.DeadLetterIndex, etag, RegistryKeys.Retention, cancellationToken)
                .ConfigureAwait(false);
            if (saved == SaveOutcome.Saved)
            {
                return true;
            }
        }

        LogIndexContended(subscriber);
        return false;
    }

    /// <summary>
    /// The CloudEvent id as a key segment: Dapr's ids are UUIDs, which pass as they are; anything else is replaced by
    /// its hash (stable, so a redelivery still finds it).
    /// </summary>
    private static string StorableId(string messageId) =>
        SafeKeySegment.IsValid(messageId) ? messageId : "sha256-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(messageId)))[..32];

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead letter {MessageId} of {Subscriber} (event {EventId}) kept: {Reason}")]
    private partial void LogKept(string subscriber, string messageId, string eventId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dead letter {MessageId} of {Subscriber} not kept: {Subscriber} has handled event {EventId} since, or an operator resolved it")]
    private partial void LogAlreadyHandled(string subscriber, string messageId, string eventId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Dead letter {MessageId} of {Subscriber} not kept: {Max} are already kept for it; it waits in the queue until some are redriven")]
    private partial void LogIndexFull(string subscriber, string messageId, int max);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The dead-letter index of {Subscriber} was full but named {Count} dead letters already gone; dropped them")]
    private partial void LogIndexPruned(string subscriber, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The dead-letter index of {Subscriber} kept changing; the change is retried")]
    private partial void LogIndexContended(string subscriber);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dead letter {MessageId} of {Subscriber} (event {EventId}) redriven and handled")]
    private partial void LogRedriven(string subscriber, string messageId, string eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead letter {MessageId} of {Subscriber} (event {EventId}) resolved by an operator without a redrive: {Reason}")]
    private partial void LogResolved(string subscriber, string messageId, string eventId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead letter {MessageId} of {Subscriber} (event {EventId}) redriven but not handled: {Reason}")]
    private partial void LogRedriveFailed(string subscriber, string messageId, string eventId, string reason);
}
