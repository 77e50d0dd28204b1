using System.Text.Json;
using Axentra.BuildingBlocks.PubSub;
using Axentra.Catalog.Domain;
using Axentra.Contracts;
using Microsoft.Extensions.Options;

namespace Axentra.Catalog.Projection;

/// <summary>
/// Tells the knowledge bases that a store's catalog changed: one message per kind of change, listing every
/// product and causing event that had not been announced yet, then marks them announced. A crash between the
/// two makes the next touch of the entry announce again: at least once, never lost.
/// </summary>
public sealed class KbRefreshAnnouncer(
    IMessagePublisher publisher, CatalogEntries entries, IOptions<CatalogBucketOptions> buckets, TimeProvider timeProvider, CatalogMetrics metrics)
{
    /// <summary>Product ids per message, keeping a store deletion's message well under SNS's 256 KiB.</summary>
    public const int MaxProductsPerMessage = 500;

    /// <returns>The number of messages published.</returns>
    public async ValueTask<int> AnnounceAsync(string storeId, IReadOnlyList<EntryResult> results, CancellationToken cancellationToken)
    {
        var pending = results.Where(r => r.State is { UnannouncedEventIds.Count: > 0 }).ToList();
        if (pending.Count == 0)
        {
            return 0;
        }

        var published = 0;
        foreach (var group in pending.GroupBy(r => r.State!.IsPresent ? KbRefreshChanges.Upsert : KbRefreshChanges.Delete))
        {
            foreach (var chunk in group.Chunk(MaxProductsPerMessage))
            {
                var message = new KbRefreshMessage
                {
                    StoreId = storeId,
                    ProductIds = chunk.Select(r => r.Key.ProductId).Distinct(StringComparer.Ordinal).ToArray(),
                    Change = group.Key,
                    Bucket = buckets.Value.Processed,
                    CatalogPrefix = StorageKeys.StoreCatalogPrefix(storeId),
                    EventIds = chunk.SelectMany(r => r.State!.UnannouncedEventIds).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray(),
                    Timestamp = timeProvider.GetUtcNow(),
                };
                await publisher.PublishAsync(
                    PlatformNames.Topics.KbRefresh, JsonSerializer.SerializeToUtf8Bytes(message, CatalogJsonContext.Default.KbRefreshMessage), cancellationToken).ConfigureAwait(false);
                metrics.KbRefreshPublished(group.Key);
                published++;

                foreach (var result in chunk)
                {
                    await entries.AcknowledgeAsync(result.Key, result.State!.UnannouncedEventIds.ToHashSet(StringComparer.Ordinal), cancellationToken).ConfigureAwait(false);
                }
            }
        }

        return published;
    }
}
