using System.Text.Json;
using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.State;
using Axentra.Classification;
using Axentra.Contracts;
using Axentra.Intake.Domain;
using Microsoft.Extensions.Options;

namespace Axentra.Intake.Registration;

/// <summary>How registering one delivery ended.</summary>
public abstract record RegistrationResult
{
    private RegistrationResult()
    {
    }

    /// <summary>A new event, registered and published: answer 202.</summary>
    public sealed record Accepted(EventIdentity Event) : RegistrationResult;

    /// <summary>A redelivery of an accepted event inside the dedupe window: answer 200 with the original.</summary>
    public sealed record Duplicate(EventIdentity Event) : RegistrationResult;

    /// <summary>Another delivery of this event is still being registered: answer 503 and let the sender retry.</summary>
    public sealed record InFlight(TimeSpan RetryAfter) : RegistrationResult;
}

/// <summary>
/// Claims, registers and publishes one webhook so that no acknowledged event is lost and none is processed twice.
/// </summary>
/// <remarks>
/// The seed registered an event after all its work; a naive "claim, then publish" instead loses the event when
/// the publish fails after the claim (the sender's retry would be told "duplicate"). Here:
/// <list type="number">
/// <item>a first-write claim, <c>pending</c> with a lease, fixes the event's identity;</item>
/// <item>the registry record is written, then the envelope is published;</item>
/// <item>the claim becomes <c>accepted</c>, and only then does the sender get its 202.</item>
/// </list>
/// If registering or publishing fails, the lease is released at once and the sender gets 503; its retry takes
/// the claim over and reuses the identity. A delivery that died mid-way leaves a pending claim whose lease runs
/// out; the next delivery takes it over the same way. A republish after such a failure carries the same
/// event_id and audit key, and subscribers are idempotent, so the outcome is still exactly once.
/// <para>
/// Where the state store and the queue share a database (the standalone host registers an
/// <see cref="ITransactionalOutbox"/>), the three steps are one commit instead: the claim is written already
/// <c>accepted</c>, with the registry record, the payload-hash index and the message. A failed commit leaves
/// nothing behind (the sender's retry is simply a first delivery); the claim rules above still decide between a
/// new event, a duplicate and a takeover.
/// </para>
/// </remarks>
public sealed partial class WebhookRegistrar(
    IStateStore state,
    IMessagePublisher publisher,
    IOptions<IntakeOptions> options,
    IOptions<RoutingOptions> routing,
    DuplicateTally duplicates,
    IntakeMetrics metrics,
    TimeProvider timeProvider,
    ILogger<WebhookRegistrar> logger,
    ITransactionalOutbox? outbox = null)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxPollInterval = TimeSpan.FromMilliseconds(200);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource<RegistrationResult?>> _inFlight = new(StringComparer.Ordinal);

    /// <summary>How long a claim outlives its window in the store (DynamoDB's TTL sweep lags; see WindowEndsAt).</summary>
    private static readonly TimeSpan ExpiryGrace = TimeSpan.FromDays(2);

    private const int MaxVanishedReads = 8;
    private readonly IntakeOptions _options = options.Value;

    /// <summary>
    /// How long a claim is kept in the store. A webhook deduplicated by its payload hash has its claim keyed by that
    /// hash, so the claim doubles as the hash's index entry (<see cref="PayloadHashLookup"/>) and is kept as long as
    /// the registry; other claims outlive their window only by the grace.
    /// </summary>
    private TimeSpan KeepClaimFor(ClassifiedWebhook webhook)
    {
        var window = _options.DedupeWindow + ExpiryGrace;
        return webhook.DedupedByPayloadHash && RegistryKeys.Retention > window ? RegistryKeys.Retention : window;
    }

    public async Task<RegistrationResult> RegisterAsync(ClassifiedWebhook webhook, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var claimKey = DedupeClaim.KeyOf(webhook.DedupeKey);

        // Single flight inside this process: concurrent deliveries of one event wait for the first one here
        // instead of each polling the state store (a burst of retries would otherwise starve the one doing the
        // work). Deliveries to other replicas meet at the store's claim below.
        var mine = new TaskCompletionSource<RegistrationResult?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var flight = _inFlight.GetOrAdd(claimKey, mine);
        if (flight != mine)
        {
            try
            {
                var outcome = await flight.Task.WaitAsync(_options.InFlightWait, timeProvider, cancellationToken).ConfigureAwait(false);
                if (outcome is RegistrationResult.Accepted or RegistrationResult.Duplicate)
                {
                    var identity = outcome is RegistrationResult.Accepted a ? a.Event : ((RegistrationResult.Duplicate)outcome).Event;
                    duplicates.Count(identity.EventId, timeProvider.GetUtcNow());
                    return new RegistrationResult.Duplicate(identity);
                }
            }
            catch (TimeoutException)
            {
                // The first delivery is slow: fall through to the store, which knows whether it is still in flight.
            }

            return await RegisterThroughStoreAsync(claimKey, webhook, payload, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            var result = await RegisterThroughStoreAsync(claimKey, webhook, payload, cancellationToken).ConfigureAwait(false);
            mine.TrySetResult(result);
            return result;
        }
        catch
        {
            mine.TrySetResult(null); // the waiters try for themselves
            throw;
        }
        finally
        {
            _inFlight.TryRemove(new KeyValuePair<string, TaskCompletionSource<RegistrationResult?>>(claimKey, mine));
        }
    }

    private async Task<RegistrationResult> RegisterThroughStoreAsync(string claimKey, ClassifiedWebhook webhook, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var waitUntil = timeProvider.GetUtcNow() + _options.InFlightWait;
        var poll = PollInterval;
        var vanished = 0;
        while (true)
        {
            var now = timeProvider.GetUtcNow();
            var claim = new DedupeClaim
            {
                Token = UniqueTokens.Next(),
                State = DedupeClaim.Pending,
                LeaseUntil = now + _options.ClaimLease,
                WindowEndsAt = now + _options.DedupeWindow,
                Event = EventIdentity.Create(webhook, now),
            };

            if (await TryRegisterAsync(claimKey, claim, etag: null, webhook, payload, cancellationToken).ConfigureAwait(false) is { } registered)
            {
                return registered;
            }

            var current = await state.GetJsonAsync(claimKey, IntakeJsonContext.Default.DedupeClaim, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                // Gone between our write and our read: claim again, but not forever (a store whose writes and
                // reads disagree is not working).
                if (++vanished >= MaxVanishedReads)
                {
                    throw new BackendUnavailableException("registry state store", $"claim '{claimKey}' conflicts on write but is absent on read");
                }

                continue;
            }

            var (existing, etag) = current.Value;
            if (existing.WindowEndsAt <= now)
            {
                // Past the dedupe window: an identical payload now is a new event (a price flip A→B→A must not be
                // dropped), so replace the old claim, conditional on its ETag.
                if (await TryRegisterAsync(claimKey, claim, etag, webhook, payload, cancellationToken).ConfigureAwait(false) is { } replaced)
                {
                    return replaced;
                }

                continue;
            }

            if (existing.State == DedupeClaim.Accepted)
            {
                duplicates.Count(existing.Event.EventId, now);
                return new RegistrationResult.Duplicate(existing.Event);
            }

            if (existing.LeaseUntil <= now)
            {
                // The delivery that claimed it failed or died: take over, keeping its identity.
                var takeover = claim with { Event = existing.Event, WindowEndsAt = existing.WindowEndsAt };
                if (await TryRegisterAsync(claimKey, takeover, etag, webhook, payload, cancellationToken).ConfigureAwait(false) is { } takenOver)
                {
                    LogTakeover(existing.Event.EventId);
                    return takenOver;
                }

                continue;
            }

            if (now >= waitUntil)
            {
                return new RegistrationResult.InFlight(existing.LeaseUntil - now);
            }

            await Task.Delay(poll, timeProvider, cancellationToken).ConfigureAwait(false);
            poll = TimeSpan.FromTicks(Math.Min(poll.Ticks * 2, MaxPollInterval.Ticks));
        }
    }

    /// <summary>Claims the event (first write, or over <paramref name="etag"/>) and registers it; null when the claim lost.</summary>
    private async Task<RegistrationResult?> TryRegisterAsync(
        string claimKey, DedupeClaim claim, string? etag, ClassifiedWebhook webhook, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var identity = claim.Event;
        using var scope = logger.BeginScope(new EventLogScope(identity.EventId, identity.StoreId, identity.EventType));
        var routingTarget = routing.Value.Targets.GetValueOrDefault(identity.EventType);
        var registered = outbox is not null
            ? await CommitAsync(outbox, claimKey, claim, etag, webhook, routingTarget, payload, cancellationToken).ConfigureAwait(false)
            : await TryClaimAsync(claimKey, claim, etag, KeepClaimFor(webhook), cancellationToken).ConfigureAwait(false)
                ? await CompleteAsync(claimKey, claim, webhook, routingTarget, payload, cancellationToken).ConfigureAwait(false)
                : null;
        if (registered is not null && webhook.GeneratedIds.Count > 0)
        {
            LogGeneratedIds(identity.EventId, string.Join(",", webhook.GeneratedIds));
        }

        return registered;
    }

    /// <summary>The one-commit registration: the claim, already accepted, with the registry writes and the message.</summary>
    private async Task<RegistrationResult?> CommitAsync(
        ITransactionalOutbox transactionalOutbox, string claimKey, DedupeClaim claim, string? etag, ClassifiedWebhook webhook, string? routingTarget,
        ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var accepted = claim with { State = DedupeClaim.Accepted };
        var outcome = await transactionalOutbox.TryCommitAsync(
            new OutboxCommit(
                new StateWrite(claimKey, JsonSerializer.SerializeToUtf8Bytes(accepted, IntakeJsonContext.Default.DedupeClaim), KeepClaimFor(webhook)),
                etag,
                RegistryWrites(claim.Event, webhook, routingTarget),
                PlatformNames.Topics.WebhookEvents,
                EnvelopeOf(claim.Event, webhook, routingTarget, payload)),
            cancellationToken).ConfigureAwait(false);
        metrics.DedupeClaim(etag is null ? "first" : "replace", outcome == SaveOutcome.Saved);
        return outcome == SaveOutcome.Saved ? new RegistrationResult.Accepted(claim.Event) : null;
    }

    private async Task<bool> TryClaimAsync(string key, DedupeClaim claim, string? etag, TimeSpan keepFor, CancellationToken cancellationToken)
    {
        var won = await state.TrySaveJsonAsync(key, claim, IntakeJsonContext.Default.DedupeClaim, etag, keepFor, cancellationToken).ConfigureAwait(false)
            == SaveOutcome.Saved;
        metrics.DedupeClaim(etag is null ? "first" : "replace", won);
        return won;
    }

    /// <summary>The step-by-step registration after a won claim: registry writes, publish, then the claim accepted.</summary>
    private async Task<RegistrationResult> CompleteAsync(
        string claimKey, DedupeClaim claim, ClassifiedWebhook webhook, string? routingTarget, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var identity = claim.Event;
        try
        {
            foreach (var write in RegistryWrites(identity, webhook, routingTarget))
            {
                await state.SaveAsync(write.Key, write.Value, write.TimeToLive, cancellationToken).ConfigureAwait(false);
            }

            await publisher.PublishAsync(
                PlatformNames.Topics.WebhookEvents, EnvelopeOf(identity, webhook, routingTarget, payload), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is BackendUnavailableException or OperationCanceledException)
        {
            await ReleaseAsync(claimKey, claim, KeepClaimFor(webhook)).ConfigureAwait(false);
            throw;
        }

        try
        {
            var accepted = claim with { State = DedupeClaim.Accepted };
            await state.SaveJsonAsync(claimKey, accepted, IntakeJsonContext.Default.DedupeClaim, KeepClaimFor(webhook), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is BackendUnavailableException or OperationCanceledException)
        {
            // The event is published, so it is durable: acknowledge it. The claim stays pending until its lease
            // runs out; a redelivery after that republishes the same identity, which subscribers absorb.
            LogConfirmFailed(identity.EventId, ex);
        }

        return new RegistrationResult.Accepted(identity);
    }

    /// <summary>
    /// The event's registry record, and its payload-hash index entry when the claim is not already that entry (the
    /// webhook came with a <c>webhook-id</c>). One random key fewer per webhook matters: each is a page written at
    /// random in the embedded store's key index, and skipping this one took intake alone from about 7,000 to 8,500
    /// webhooks/s (docs/performance.md).
    /// </summary>
    private static StateWrite[] RegistryWrites(EventIdentity identity, ClassifiedWebhook webhook, string? routingTarget)
    {
        var record = new RegistryRecord
        {
            EventId = identity.EventId,
            PayloadHash = identity.PayloadHash,
            ProcessingTimestamp = identity.ReceivedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            EventType = identity.EventType,
            StoreId = identity.StoreId,
            ProductId = identity.ProductId,
            S3Key = identity.S3Key,
            Status = RegistryStatus.Accepted,
            RoutingTarget = routingTarget,
            Ttl = (identity.ReceivedAt + RegistryKeys.Retention).ToUnixTimeSeconds(),
            DedupeKey = webhook.DedupeKey,
            GeneratedIds = webhook.GeneratedIds,
        };
        var recordWrite = new StateWrite(
            RegistryKeys.Event(identity.EventId), JsonSerializer.SerializeToUtf8Bytes(record, ContractsJsonContext.Default.RegistryRecord), RegistryKeys.Retention);
        return webhook.DedupedByPayloadHash
            ? [recordWrite]
            :
            [
                recordWrite,
                new(
                    RegistryKeys.PayloadHash(identity.PayloadHash),
                    JsonSerializer.SerializeToUtf8Bytes(new PayloadHashIndex(identity.PayloadHash, identity.EventId), ContractsJsonContext.Default.PayloadHashIndex),
                    RegistryKeys.Retention),
            ];
    }

    /// <summary>The message published for the event: its identity, routing and the payload exactly as received.</summary>
    private static byte[] EnvelopeOf(EventIdentity identity, ClassifiedWebhook webhook, string? routingTarget, ReadOnlyMemory<byte> payload)
    {
        var envelope = new WebhookEnvelope
        {
            EventId = identity.EventId,
            PayloadHash = identity.PayloadHash,
            EventType = identity.EventType,
            StoreId = identity.StoreId,
            ProductId = identity.ProductId,
            S3Key = identity.S3Key,
            ReceivedAt = identity.ReceivedAt,
            DedupeKey = webhook.DedupeKey,
            GeneratedIds = webhook.GeneratedIds,
            RoutingTarget = routingTarget,
            // The local queue has no headers to carry the trace to the subscribers; the envelope does.
            TraceParent = System.Diagnostics.Activity.Current is { IdFormat: System.Diagnostics.ActivityIdFormat.W3C } current ? current.Id : null,
            TraceState = System.Diagnostics.Activity.Current?.TraceStateString,
            Payload = WholeArrays.Of(payload), // the request's body, read into an array of its own
        };
        return JsonSerializer.SerializeToUtf8Bytes(envelope, ContractsJsonContext.Default.WebhookEnvelope);
    }

    /// <summary>Ends our lease now so the sender's retry can take the claim over without waiting for it to expire.</summary>
    private async Task ReleaseAsync(string claimKey, DedupeClaim claim, TimeSpan keepFor)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            var released = claim with { LeaseUntil = DateTimeOffset.UnixEpoch };
            await state.SaveJsonAsync(claimKey, released, IntakeJsonContext.Default.DedupeClaim, keepFor, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is BackendUnavailableException or OperationCanceledException)
        {
            LogReleaseFailed(claim.Event.EventId, ex); // the lease still expires on its own
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Took over the abandoned claim of event {EventId}")]
    private partial void LogTakeover(string eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId} is published but its claim could not be marked accepted")]
    private partial void LogConfirmFailed(string eventId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId} had no {GeneratedIds} in its payload; generated deterministic ids")]
    private partial void LogGeneratedIds(string eventId, string generatedIds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release the claim of event {EventId}; it expires with its lease")]
    private partial void LogReleaseFailed(string eventId, Exception exception);
}
