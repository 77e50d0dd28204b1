using System.Text.Json.Nodes;
using Axentra.BuildingBlocks.Bindings;
using Axentra.BuildingBlocks.State;
using Axentra.Catalog.Domain;
using Axentra.Contracts;
using Microsoft.Extensions.Options;

namespace Axentra.Catalog.Projection;

/// <summary>What one event did to the catalogs: a sentence for the registry, warnings, KB messages published.</summary>
public sealed record CatalogEffect(string Summary, IReadOnlyList<string> Warnings, int KbRefreshMessages);

/// <summary>
/// The catalog semantics of design.md §3 and docs/catalog.md, per event type, over the state store and the
/// processed bucket. Every step is idempotent, so a redelivery, a replay or a crash half-way ends the same.
/// </summary>
public sealed class CatalogProjection(
    IStateStore state, IObjectBuckets buckets, IOptions<CatalogBucketOptions> bucketOptions, CatalogEntries entries, KbRefreshAnnouncer announcer)
{
    private const int ListPageSize = 1000;
    private readonly IObjectBucket _processed = buckets.Open(bucketOptions.Value.Processed);

    /// <param name="envelope">The event.</param>
    /// <param name="payload">Its payload, parsed.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <param name="recompute">A rebuild: entries that already reflect this event take the content computed now (see CatalogEntryRules).</param>
    public async ValueTask<CatalogEffect> ApplyProductEventAsync(WebhookEnvelope envelope, JsonObject payload, CancellationToken cancellationToken, bool recompute = false)
    {
        var storeId = envelope.StoreId;
        var productId = envelope.ProductId!;
        var found = CatalogPayload.ProductState(payload);
        var warnings = new List<string>();
        if (found.Warning is not null)
        {
            warnings.Add(found.Warning);
        }

        var deleting = envelope.EventType == EventTypes.ProductDelete;
        var version = VersionOf(envelope, found.UpdatedAt, deleting);
        var storeKey = StoreEntry(storeId, productId);

        if (deleting)
        {
            // The master (and Ben's tables) keep the product; only this store stops carrying it.
            var (removed, sent) = await RemoveCopyAsync(storeId, storeKey, version, force: false, cancellationToken).ConfigureAwait(false);
            return new CatalogEffect($"store copy: {Describe(removed, "removed")}; master kept", warnings, sent);
        }

        if (found.Entity is not { } product || !CatalogPayload.HasContent(product))
        {
            warnings.Add($"the payload carries no product fields (looked in {found.Location}); nothing catalogued");
            return new CatalogEffect("nothing to catalogue", warnings, 0);
        }

        // An id intake generated (deterministic from the dedupe key, flagged on the event) goes into the catalog copies,
        // as the seed's "updates payload with generated ID" did: whoever reads them can name the product. The audit
        // copy stays the bytes received.
        if (envelope.GeneratedIds.Contains("product_id"))
        {
            product["product_id"] = productId;
        }

        if (envelope.GeneratedIds.Contains("store_id"))
        {
            product["store_id"] = storeId;
        }

        var projected = StoreSpecificFields.Project(product);
        var master = await entries.ApplyAsync(MasterEntry(productId), version, projected.Master, announce: false, force: false, cancellationToken, recompute).ConfigureAwait(false);

        var status = await GetStoreStatusAsync(storeId, cancellationToken).ConfigureAwait(false);
        if (status?.Value.IsDeleted == true)
        {
            warnings.Add($"store {storeId} is deleted (event {status.Value.Value.Version.EventId}); its catalog is not served, store copy not written");
            // A copy written by an attempt that raced the deletion (and failed before its re-check) must not stay served.
            var (_, sent) = await RemoveCopyAsync(storeId, storeKey, status.Value.Value.Version, force: true, cancellationToken).ConfigureAwait(false);
            return new CatalogEffect($"master: {Describe(master, "updated")}; store copy not written (store deleted)", warnings, sent);
        }

        if (status?.Value.LastDeletion is { } lastDeletion && version < lastDeletion)
        {
            // Older than the store's deletion: in order, the deletion would have removed it.
            var (_, sent) = await RemoveCopyAsync(storeId, storeKey, lastDeletion, force: false, cancellationToken).ConfigureAwait(false);
            return new CatalogEffect($"master: {Describe(master, "updated")}; store copy: older than the store's deletion, not written", warnings, sent);
        }

        var copy = await entries.ApplyAsync(storeKey, version, projected.StoreCopy, announce: true, force: false, cancellationToken, recompute).ConfigureAwait(false);
        var results = new List<EntryResult> { copy };

        // A store deletion that listed the store's objects just before this copy appeared would miss it: look again.
        var after = await GetStoreStatusAsync(storeId, cancellationToken).ConfigureAwait(false);
        if (after?.Value is { IsDeleted: true } deleted)
        {
            results[0] = await entries.ApplyAsync(storeKey, deleted.Version, content: null, announce: true, force: true, cancellationToken).ConfigureAwait(false);
        }

        var messages = await announcer.AnnounceAsync(storeId, results, cancellationToken).ConfigureAwait(false);
        return new CatalogEffect($"master: {Describe(master, "updated")}; store copy: {Describe(results[0], "updated")}", warnings, messages);
    }

    public async ValueTask<CatalogEffect> ApplyStoreEventAsync(WebhookEnvelope envelope, JsonObject payload, CancellationToken cancellationToken)
    {
        var storeId = envelope.StoreId;
        var found = CatalogPayload.StoreState(payload);
        var warnings = new List<string>();
        if (found.Warning is not null)
        {
            warnings.Add(found.Warning);
        }

        var deleting = envelope.EventType == EventTypes.StoreDelete;
        var version = VersionOf(envelope, found.UpdatedAt, deleting);
        var key = CatalogStateKeys.StoreStatus(storeId);

        while (true)
        {
            var current = await GetStoreStatusAsync(storeId, cancellationToken).ConfigureAwait(false);
            if (current is { } unfinished && unfinished.Value.PendingRemoval.Count > 0 && unfinished.Value.Version.EventId != envelope.EventId)
            {
                // Another deletion did not finish (it failed half-way): finish it before anything replaces its status.
                await RemoveStoreCatalogAsync(storeId, unfinished.Value, [], cancellationToken).ConfigureAwait(false);
                continue;
            }

            var next = StoreStatusRules.Decide(current?.Value, version);
            if (next is null)
            {
                if (current!.Value.Value.Version.EventId == envelope.EventId && current.Value.Value.PendingRemoval.Count > 0)
                {
                    // A redelivery of a deletion that did not finish: finish it.
                    return await RemoveStoreCatalogAsync(storeId, current.Value.Value, warnings, cancellationToken).ConfigureAwait(false);
                }

                var why = current.Value.Value.Version.EventId == envelope.EventId ? "already applied" : $"stale: the store reflects newer event {current.Value.Value.Version.EventId}";
                return new CatalogEffect($"store status unchanged ({why})", warnings, 0);
            }

            if (deleting)
            {
                next = next with { PendingRemoval = await ListStoreProductsAsync(storeId, cancellationToken).ConfigureAwait(false) };
            }

            if (await state.TrySaveJsonAsync(key, next, CatalogJsonContext.Default.StoreStatusState, current?.ETag, null, cancellationToken).ConfigureAwait(false) != SaveOutcome.Saved)
            {
                continue;
            }

            if (deleting)
            {
                return await RemoveStoreCatalogAsync(storeId, next, warnings, cancellationToken).ConfigureAwait(false);
            }

            var reactivated = current?.Value.IsDeleted == true;
            return new CatalogEffect(
                reactivated ? "store active again: new product events are catalogued for it" : "store active; product catalogs unchanged", warnings, 0);
        }
    }

    /// <summary>A deleted store's catalog stops being served: every store copy removed (tombstoned), one KB refresh.</summary>
    private async ValueTask<CatalogEffect> RemoveStoreCatalogAsync(string storeId, StoreStatusState status, List<string> warnings, CancellationToken cancellationToken)
    {
        var results = new List<EntryResult>(status.PendingRemoval.Count);
        foreach (var productId in status.PendingRemoval)
        {
            results.Add(await entries.ApplyAsync(StoreEntry(storeId, productId), status.Version, content: null, announce: true, force: true, cancellationToken).ConfigureAwait(false));
        }

        var messages = await announcer.AnnounceAsync(storeId, results, cancellationToken).ConfigureAwait(false);

        var key = CatalogStateKeys.StoreStatus(storeId);
        while (await GetStoreStatusAsync(storeId, cancellationToken).ConfigureAwait(false) is { } current
            && current.Value.Version == status.Version && current.Value.PendingRemoval.Count > 0)
        {
            if (await state.TrySaveJsonAsync(key, current.Value with { PendingRemoval = [] }, CatalogJsonContext.Default.StoreStatusState, current.ETag, null, cancellationToken).ConfigureAwait(false) == SaveOutcome.Saved)
            {
                break;
            }
        }

        return new CatalogEffect($"store deleted: {results.Count(r => r.Changed)} store copies removed; masters and audit records kept", warnings, messages);
    }

    private async ValueTask<IReadOnlyList<string>> ListStoreProductsAsync(string storeId, CancellationToken cancellationToken)
    {
        var prefix = StorageKeys.StoreCatalogPrefix(storeId);
        var ids = new List<string>();
        string? token = null;
        do
        {
            var page = await _processed.ListAsync(prefix, token, ListPageSize, cancellationToken).ConfigureAwait(false);
            foreach (var key in page.Keys)
            {
                var name = key[prefix.Length..];
                if (name.EndsWith(".json", StringComparison.Ordinal) && !name.Contains('/', StringComparison.Ordinal))
                {
                    ids.Add(name[..^".json".Length]);
                }
            }

            token = page.ContinuationToken;
        }
        while (token is not null);

        return ids;
    }

    public ValueTask<(StoreStatusState Value, string ETag)?> GetStoreStatusAsync(string storeId, CancellationToken cancellationToken) =>
        state.GetJsonAsync(CatalogStateKeys.StoreStatus(storeId), CatalogJsonContext.Default.StoreStatusState, cancellationToken);

    /// <summary>An event's version: the payload's <c>updated_at</c> when it has one, else the receipt time (<see cref="CatalogVersion"/>).</summary>
    private static CatalogVersion VersionOf(WebhookEnvelope envelope, DateTimeOffset? updatedAt, bool deleting) =>
        new(updatedAt ?? envelope.ReceivedAt, deleting, envelope.EventId) { ReceivedAt = envelope.ReceivedAt };

    /// <summary>Tombstones the store's copy at <paramref name="at"/>, and announces it when a copy was removed.</summary>
    private async ValueTask<(EntryResult Removed, int Sent)> RemoveCopyAsync(string storeId, CatalogEntryKey key, CatalogVersion at, bool force, CancellationToken cancellationToken)
    {
        var removed = await entries.ApplyAsync(key, at, content: null, announce: true, force, cancellationToken).ConfigureAwait(false);
        return (removed, await announcer.AnnounceAsync(storeId, [removed], cancellationToken).ConfigureAwait(false));
    }

    public static CatalogEntryKey MasterEntry(string productId) =>
        new(CatalogStateKeys.MasterProduct(productId), StorageKeys.MasterProduct(productId), productId);

    public static CatalogEntryKey StoreEntry(string storeId, string productId) =>
        new(CatalogStateKeys.StoreProduct(storeId, productId), StorageKeys.StoreProduct(storeId, productId), productId);

    private static string Describe(EntryResult result, string appliedVerb) => result.Outcome switch
    {
        EntryOutcome.Applied when result.Changed => appliedVerb,
        EntryOutcome.Applied when appliedVerb == "removed" => "nothing to remove (tombstone recorded)",
        EntryOutcome.Applied => "unchanged (same content, newer version recorded)",
        EntryOutcome.AlreadyApplied => "already reflects this event",
        _ => $"stale, kept newer event {result.State?.Version.EventId}",
    };
}
