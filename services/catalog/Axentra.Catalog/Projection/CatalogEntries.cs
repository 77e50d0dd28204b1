using System.Text.Json;
using System.Text.Json.Nodes;
using Axentra.BuildingBlocks.Bindings;
using Axentra.BuildingBlocks.State;
using Axentra.Catalog.Domain;

namespace Axentra.Catalog.Projection;

/// <summary>One catalog entry: its bookkeeping key in the state store and its object key in the processed bucket.</summary>
public sealed record CatalogEntryKey(string StateKey, string ObjectKey, string ProductId);

/// <summary>What applying an event to one entry did, and the entry's state afterwards.</summary>
public sealed record EntryResult(CatalogEntryKey Key, EntryOutcome Outcome, bool Changed, CatalogEntryState? State);

/// <summary>
/// Applies events to catalog entries so that the bucket always converges on the newest event, whatever the
/// delivery order, redeliveries, crashes or concurrent writers.
/// </summary>
/// <remarks>
/// The state store entry (versioned, written with ETags) is the truth; the bucket object is materialised from
/// it. The state also holds the content, because a writer that lost a race may already have put its (older)
/// object: after every write the writer re-reads the state and, if a newer event claimed the entry meanwhile,
/// writes that event's content, so the last object written is always the newest state's. An entry that was
/// claimed but not materialised (a crash) is repaired by the redelivery of the same event.
/// </remarks>
public sealed class CatalogEntries(IStateStore state, IObjectBucket processed, CatalogMetrics? metrics = null)
{
    private const int MaxMaterialiseRounds = 16;

    public async ValueTask<EntryResult> ApplyAsync(
        CatalogEntryKey key, CatalogVersion version, JsonObject? content, bool announce, bool force, CancellationToken cancellationToken, bool recompute = false)
    {
        while (true)
        {
            var current = await GetAsync(key, cancellationToken).ConfigureAwait(false);
            var decision = CatalogEntryRules.Decide(current?.Value, version, content, announce, force, recompute);
            switch (decision.Outcome)
            {
                case EntryOutcome.Applied:
                    if (await TrySaveAsync(key, decision.NewState!, current?.ETag, cancellationToken).ConfigureAwait(false) is { } written)
                    {
                        await MaterialiseAsync(key, decision.NewState!, written, cancellationToken).ConfigureAwait(false);
                        return new EntryResult(key, EntryOutcome.Applied, decision.Changed, decision.NewState);
                    }

                    continue; // another writer moved the entry on: decide again against what it wrote

                case EntryOutcome.AlreadyApplied:
                    // A redelivery: its first attempt may have died between claiming the entry and writing the object.
                    await MaterialiseAsync(key, current!.Value.Value, writtenBytes: null, cancellationToken).ConfigureAwait(false);
                    return new EntryResult(key, EntryOutcome.AlreadyApplied, false, current.Value.Value);

                default:
                    if (current!.Value.Value.UnannouncedEventIds.Count > 0)
                    {
                        // Left behind by a writer that died before announcing: finish its work while we are here.
                        await MaterialiseAsync(key, current.Value.Value, writtenBytes: null, cancellationToken).ConfigureAwait(false);
                    }

                    return new EntryResult(key, EntryOutcome.Stale, false, current.Value.Value);
            }
        }
    }

    /// <summary>Removes announced event ids from the entry's pending list (they reached the KB-refresh topic).</summary>
    public async ValueTask AcknowledgeAsync(CatalogEntryKey key, IReadOnlyCollection<string> announcedEventIds, CancellationToken cancellationToken)
    {
        while (true)
        {
            var current = await GetAsync(key, cancellationToken).ConfigureAwait(false);
            if (current is not { } entry || !entry.Value.UnannouncedEventIds.Any(announcedEventIds.Contains))
            {
                return;
            }

            var remaining = entry.Value.UnannouncedEventIds.Where(id => !announcedEventIds.Contains(id)).ToArray();
            if (await TrySaveAsync(key, entry.Value with { UnannouncedEventIds = remaining }, entry.ETag, cancellationToken).ConfigureAwait(false) is not null)
            {
                return;
            }
        }
    }

    public async ValueTask<(CatalogEntryState Value, string ETag)?> GetAsync(CatalogEntryKey key, CancellationToken cancellationToken) =>
        await state.GetJsonAsync(key.StateKey, CatalogJsonContext.Default.CatalogEntryState, cancellationToken).ConfigureAwait(false);

    /// <summary>Writes the entry over <paramref name="etag"/>: the bytes written, or null when another writer moved it on.</summary>
    private async ValueTask<byte[]?> TrySaveAsync(CatalogEntryKey key, CatalogEntryState value, string? etag, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, CatalogJsonContext.Default.CatalogEntryState);
        return await state.TrySaveAsync(key.StateKey, bytes, etag, timeToLive: null, cancellationToken).ConfigureAwait(false) == SaveOutcome.Saved
            ? bytes
            : null;
    }

    /// <param name="key">The entry.</param>
    /// <param name="written">The state whose content the bucket should hold.</param>
    /// <param name="writtenBytes">That state as stored, when this writer just wrote it: if the entry still holds these
    /// bytes, nothing moved on, and the re-read need not parse the entry and its content again.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    private async ValueTask MaterialiseAsync(CatalogEntryKey key, CatalogEntryState written, byte[]? writtenBytes, CancellationToken cancellationToken)
    {
        var target = written;
        var targetBytes = writtenBytes;
        for (var round = 0; round < MaxMaterialiseRounds; round++)
        {
            if (target.Content is { } content)
            {
                await processed.PutAsync(key.ObjectKey, JsonSerializer.SerializeToUtf8Bytes(content, CatalogJsonContext.Readable.JsonElement), cancellationToken).ConfigureAwait(false);
                metrics?.Written(key.ObjectKey, deleted: false);
            }
            else
            {
                await processed.DeleteAsync(key.ObjectKey, cancellationToken).ConfigureAwait(false);
                metrics?.Written(key.ObjectKey, deleted: true);
            }

            var stored = await state.GetAsync(key.StateKey, cancellationToken).ConfigureAwait(false);
            if (stored is null || (targetBytes is not null && stored.Value.Span.SequenceEqual(targetBytes)))
            {
                return;
            }

            var now = StateStoreJsonExtensions.ValueOf(stored, key.StateKey, CatalogJsonContext.Default.CatalogEntryState);
            if (now.Version == target.Version)
            {
                return;
            }

            target = now; // a newer event claimed the entry while we wrote: make sure its content is what stays
            targetBytes = stored.Value.ToArray();
        }

        throw new InvalidOperationException($"Catalog entry '{key.StateKey}' kept changing while being materialised.");
    }
}
