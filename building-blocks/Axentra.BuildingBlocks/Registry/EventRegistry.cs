using System.Text.Json;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.State;
using Axentra.Contracts;

namespace Axentra.BuildingBlocks.Registry;

/// <summary>An event's registry record with every stage it has reached.</summary>
public sealed record EventView(RegistryRecord Record, IReadOnlyList<StageRecord> Stages);

/// <summary>
/// The event registry over the registry state store: intake writes the record, audit and catalog report their
/// stages as separate entries (so they never contend on one item), operators read it all back.
/// </summary>
public sealed class EventRegistry(IStateStore state, TimeProvider timeProvider) : IDeadLetterRecorder
{
    /// <summary>Stages read back for an event; a dead letter is recorded per subscriber so neither hides the other.</summary>
    private static readonly string[] StageNames =
    [
        Stages.Audited,
        Stages.Catalogued,
        DeadLetterStage(PlatformNames.AppIds.Audit),
        DeadLetterStage(PlatformNames.AppIds.Catalog),
        ResolvedStage(PlatformNames.AppIds.Audit),
        ResolvedStage(PlatformNames.AppIds.Catalog),
    ];

    public static string DeadLetterStage(string subscriber) => $"{Stages.DeadLettered}:{subscriber}";

    /// <summary>The stage an operator's resolution of <paramref name="subscriber"/>'s dead letter records.</summary>
    public static string ResolvedStage(string subscriber) => $"{Stages.Resolved}:{subscriber}";

    /// <summary>The stage a subscriber reports when it has handled an event (which closes its dead letter), if any.</summary>
    public static string? SuccessStageOf(string subscriber) => subscriber switch
    {
        PlatformNames.AppIds.Audit => Stages.Audited,
        PlatformNames.AppIds.Catalog => Stages.Catalogued,
        _ => null,
    };

    /// <summary>
    /// Whether the dead letter <paramref name="deadLetter"/> (a <see cref="DeadLetterStage"/>) is still open: its
    /// subscriber has not reported success since (a redrive closes it; a replay records no stage, so it does not), and
    /// no operator has resolved it since (<see cref="ResolvedStage"/>).
    /// </summary>
    public static bool IsOpen(StageRecord deadLetter, IEnumerable<StageRecord> stages)
    {
        var subscriber = deadLetter.Stage.StartsWith(Stages.DeadLettered + ":", StringComparison.Ordinal)
            ? deadLetter.Stage[(Stages.DeadLettered.Length + 1)..]
            : null;
        if (subscriber is null)
        {
            return true;
        }

        var success = SuccessStageOf(subscriber);
        var resolved = ResolvedStage(subscriber);
        return !stages.Any(s => (s.Stage == success || s.Stage == resolved) && s.At >= deadLetter.At);
    }

    public ValueTask ReportStageAsync(StageRecord stage, CancellationToken cancellationToken)
    {
        var write = StageWrite(stage);
        return state.SaveAsync(write.Key, write.Value, write.TimeToLive, cancellationToken);
    }

    /// <summary>Where and how long a stage is kept: under its event, for the registry's retention.</summary>
    private static StateWrite StageWrite(StageRecord stage) =>
        new(RegistryKeys.Stage(stage.EventId, stage.Stage), JsonSerializer.SerializeToUtf8Bytes(stage, ContractsJsonContext.Default.StageRecord), RegistryKeys.Retention);

    public async ValueTask<EventView?> GetAsync(string eventId, CancellationToken cancellationToken)
    {
        var record = await state.GetJsonAsync(RegistryKeys.Event(eventId), ContractsJsonContext.Default.RegistryRecord, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return null;
        }

        var stages = new List<StageRecord>();
        foreach (var name in StageNames)
        {
            var stage = await state.GetJsonAsync(RegistryKeys.Stage(eventId, name), ContractsJsonContext.Default.StageRecord, cancellationToken).ConfigureAwait(false);
            if (stage is not null)
            {
                stages.Add(stage.Value.Value);
            }
        }

        return new EventView(record.Value.Value, stages);
    }

    /// <summary>The latest event whose <c>payload-hash:</c> index entry names it (intake writes one only for webhooks claimed by webhook-id).</summary>
    public async ValueTask<EventView?> GetByPayloadHashAsync(string payloadHash, CancellationToken cancellationToken)
    {
        var index = await state.GetJsonAsync(RegistryKeys.PayloadHash(payloadHash), ContractsJsonContext.Default.PayloadHashIndex, cancellationToken).ConfigureAwait(false);
        return index is null ? null : await GetAsync(index.Value.Value.EventId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Adds <paramref name="count"/> redeliveries to the event's record (read-modify-write on its ETag).
    /// False when the record kept moving under us; the caller keeps the count and tries again later.
    /// </summary>
    public async ValueTask<bool> AddDuplicatesAsync(string eventId, long count, DateTimeOffset lastAt, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var current = await state.GetJsonAsync(RegistryKeys.Event(eventId), ContractsJsonContext.Default.RegistryRecord, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                return true; // expired or never written: nothing to count on
            }

            var (record, etag) = current.Value;
            var updated = record with { DuplicateCount = record.DuplicateCount + count, LastDuplicateAt = lastAt };
            if (await state.TrySaveJsonAsync(RegistryKeys.Event(eventId), updated, ContractsJsonContext.Default.RegistryRecord, etag, RegistryKeys.Retention, cancellationToken).ConfigureAwait(false) == SaveOutcome.Saved)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Records that a subscriber gave up on an event, so its registry entry shows it dead-lettered.</summary>
    public async ValueTask RecordAsync(string subscriber, ReadOnlyMemory<byte> message, string reason, int attempts, CancellationToken cancellationToken)
    {
        if (DeadLetterStageOf(subscriber, message, reason, attempts) is { } stage)
        {
            await ReportStageAsync(stage, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The state write of <see cref="RecordAsync"/>, for a queue to commit with the dead letter itself.</summary>
    public StateWrite? RecordOf(string subscriber, ReadOnlyMemory<byte> message, string reason, int attempts) =>
        DeadLetterStageOf(subscriber, message, reason, attempts) is { } stage ? StageWrite(stage) : null;

    /// <summary>The state write of an operator's resolution of <paramref name="subscriber"/>'s dead letter of <paramref name="eventId"/>, for a queue to commit with forgetting the dead letter.</summary>
    public StateWrite ResolutionOf(string subscriber, string eventId, string reason) => StageWrite(Resolution(subscriber, eventId, reason));

    /// <summary>Records an operator's resolution of <paramref name="subscriber"/>'s dead letter of <paramref name="eventId"/>.</summary>
    public ValueTask RecordResolutionAsync(string subscriber, string eventId, string reason, CancellationToken cancellationToken) =>
        ReportStageAsync(Resolution(subscriber, eventId, reason), cancellationToken);

    private StageRecord Resolution(string subscriber, string eventId, string reason) =>
        new() { EventId = eventId, Stage = ResolvedStage(subscriber), At = timeProvider.GetUtcNow(), Reason = reason };

    /// <summary>The event's <c>dead_lettered:{subscriber}</c> stage; null for a message that is not an envelope (nothing to mark).</summary>
    private StageRecord? DeadLetterStageOf(string subscriber, ReadOnlyMemory<byte> message, string reason, int attempts)
    {
        string eventId;
        try
        {
            eventId = JsonSerializer.Deserialize(message.Span, ContractsJsonContext.Default.WebhookEnvelope)?.EventId ?? "unknown";
        }
        catch (JsonException)
        {
            return null;
        }

        return new StageRecord
        {
            EventId = eventId,
            Stage = DeadLetterStage(subscriber),
            At = timeProvider.GetUtcNow(),
            Reason = reason,
            Attempts = attempts,
        };
    }
}
