using System.Globalization;
using Axentra.BuildingBlocks.Registry;
using Axentra.BuildingBlocks.State;
using Axentra.Classification;

namespace Axentra.Intake.Registration;

/// <summary>
/// <c>GET /events?payload_hash=</c>: the latest event registered with a payload hash.
/// </summary>
/// <remarks>
/// A webhook without a <c>webhook-id</c> is deduplicated by its payload hash, so its claim, keyed by that hash and
/// kept as long as the registry, already says which event the hash last produced: intake writes no separate index
/// entry for it (<see cref="WebhookRegistrar"/>). A webhook with a <c>webhook-id</c> is claimed under its id, so it
/// still writes a <c>payload-hash:</c> entry, as every event did before. Both are read and the later event wins:
/// the same payload can arrive both ways, and entries written by earlier versions stay readable.
/// </remarks>
public sealed class PayloadHashLookup(IStateStore state, EventRegistry registry)
{
    public async ValueTask<EventView?> FindAsync(string payloadHash, CancellationToken cancellationToken)
    {
        var claimKey = DedupeClaim.KeyOf(WebhookClassifier.PayloadHashDedupeKey(payloadHash));
        var claim = await state.GetJsonAsync(claimKey, IntakeJsonContext.Default.DedupeClaim, cancellationToken).ConfigureAwait(false);
        var claimed = claim is null ? null : await registry.GetAsync(claim.Value.Value.Event.EventId, cancellationToken).ConfigureAwait(false);
        var indexed = await registry.GetByPayloadHashAsync(payloadHash, cancellationToken).ConfigureAwait(false);
        if (claimed is null || indexed is null)
        {
            return claimed ?? indexed;
        }

        return ReceivedAt(indexed) > ReceivedAt(claimed) ? indexed : claimed;
    }

    private static DateTimeOffset ReceivedAt(EventView view) =>
        DateTimeOffset.TryParse(view.Record.ProcessingTimestamp, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) ? at : DateTimeOffset.MinValue;
}
