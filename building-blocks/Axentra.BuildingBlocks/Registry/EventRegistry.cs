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
    private static readonly string[] StageNames = [Stages.Audited, Stages.Catalogued, Stages.DeadLettered];

    public ValueTask ReportStageAsync(StageRecord stage, CancellationToken cancellationToken) =>
        state.SaveJsonAsync(RegistryKeys.Stage(stage.EventId, stage.Stage), stage, ContractsJsonContext.Default.StageRecord, RegistryKeys.Retention, cancellationToken);

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

    /// <summary>Records that a subscriber gave up on an event, so its registry entry shows it dead-lettered.</summary>
    public async ValueTask RecordAsync(string subscriber, ReadOnlyMemory<byte> message, string reason, int attempts, CancellationToken cancellationToken)
    {
        string eventId;
        try
        {
            eventId = JsonSerializer.Deserialize(message.Span, ContractsJsonContext.Default.WebhookEnvelope)?.EventId ?? "unknown";
        }
        catch (JsonException)
        {
            return; // not an envelope: nothing in the registry to mark
        }

        await ReportStageAsync(new StageRecord
        {
            EventId = eventId,
            Stage = Stages.DeadLettered,
            At = timeProvider.GetUtcNow(),
            Reason = $"{subscriber}: {reason}",
            Attempts = attempts,
        }, cancellationToken).ConfigureAwait(false);
    }
}
