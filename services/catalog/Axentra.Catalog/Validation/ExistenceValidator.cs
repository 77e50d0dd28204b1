using Axentra.BuildingBlocks.Bindings;
using Axentra.Contracts;
using Microsoft.Extensions.Options;

namespace Axentra.Catalog.Validation;

/// <summary>
/// Checks that an event's store and product exist: Ben's tables first (the source of truth), then our own
/// buckets. Never blocks an event: what is missing everywhere becomes a warning, logged and recorded on the
/// event's registry entry.
/// </summary>
/// <remarks>
/// Our buckets as fallback: a store is known when the raw-audit bucket holds a <c>store_create</c> record for it
/// (<c>{store_id}/store_create/…</c>, written with its metadata file by the audit service) or the processed bucket
/// holds a store catalog for it; a product is known when the master catalog holds it. Both are checked before this
/// event writes anything, so an event never vouches for itself. What our buckets vouched for once stays true (audit
/// records are immutable, masters are never removed), so it is remembered in memory (<see cref="KnownIds"/>): listing
/// a store's catalog folder per event would cost more the bigger the store.
/// <para>
/// A miss is logged as a warning when Ben's tables were asked. When they are not configured (the standalone
/// default) the startup report says so once, and per-event misses, which are then the norm for new products, are
/// logged at Debug; both are counted (<c>axentra_catalog_validation_misses_total</c>) and recorded on the event.
/// </para>
/// </remarks>
public sealed partial class ExistenceValidator(
    ISourceOfTruth sourceOfTruth, IObjectBuckets buckets, IOptions<CatalogBucketOptions> bucketOptions, ILogger<ExistenceValidator> logger,
    CatalogMetrics? metrics = null)
{
    private readonly IObjectBucket _rawAudit = buckets.Open(bucketOptions.Value.RawAudit);
    private readonly IObjectBucket _processed = buckets.Open(bucketOptions.Value.Processed);
    private readonly KnownIds _knownStores = new();
    private readonly KnownIds _knownProducts = new();

    public async ValueTask<IReadOnlyList<string>> ValidateAsync(WebhookEnvelope envelope, CancellationToken cancellationToken)
    {
        var warnings = new List<string>(2);
        if (await CheckAsync(CatalogEntity.Store, envelope.StoreId, envelope.EventId, cancellationToken).ConfigureAwait(false) is { } storeWarning)
        {
            warnings.Add(storeWarning);
        }

        if (EventTypes.IsProductEvent(envelope.EventType) && envelope.ProductId is { } productId
            && await CheckAsync(CatalogEntity.Product, productId, envelope.EventId, cancellationToken).ConfigureAwait(false) is { } productWarning)
        {
            warnings.Add(productWarning);
        }

        return warnings;
    }

    private async ValueTask<string?> CheckAsync(CatalogEntity entity, string id, string eventId, CancellationToken cancellationToken)
    {
        var answer = await sourceOfTruth.LookupAsync(entity, id, cancellationToken).ConfigureAwait(false);
        if (answer == SourceOfTruthAnswer.Found)
        {
            return null;
        }

        var name = entity == CatalogEntity.Store ? "store" : "product";
        var table = sourceOfTruth.Describe(entity);
        var known = await KnownInOurBucketsAsync(entity, id, eventId, cancellationToken).ConfigureAwait(false);
        if (known is not null)
        {
            if (answer == SourceOfTruthAnswer.NotConsulted)
            {
                return null; // nothing to report: our own records are all there is to check against
            }

            metrics?.ValidationMiss(table, name, "fallback");
            LogFallback(name, id, table, known, eventId);
            return $"{name} {id} is not in {table}; known from our {known}";
        }

        if (answer == SourceOfTruthAnswer.NotConsulted)
        {
            metrics?.ValidationMiss("none", name, "missing");
            LogMissingUnconsulted(name, id, table, eventId);
            return $"{name} {id} not found in our buckets ({table}); processed anyway";
        }

        metrics?.ValidationMiss(table, name, "missing");
        LogMissing(name, id, table, eventId);
        return $"{name} {id} not found in {table} nor in our buckets; processed anyway";
    }

    private async ValueTask<string?> KnownInOurBucketsAsync(CatalogEntity entity, string id, string eventId, CancellationToken cancellationToken)
    {
        var known = entity == CatalogEntity.Product ? _knownProducts : _knownStores;
        if (known.SourceOf(id) is { } remembered)
        {
            return remembered;
        }

        var source = entity == CatalogEntity.Product
            ? await ProductSourceAsync(id, cancellationToken).ConfigureAwait(false)
            : await StoreSourceAsync(id, eventId, cancellationToken).ConfigureAwait(false);
        if (source is not null)
        {
            known.Remember(id, source);
        }

        return source;
    }

    private async ValueTask<string?> ProductSourceAsync(string id, CancellationToken cancellationToken) =>
        await _processed.GetAsync(StorageKeys.MasterProduct(id), cancellationToken).ConfigureAwait(false) is not null
            ? "master catalog"
            : null;

    /// <remarks>
    /// Audit writes an event's raw copy (and a store_create's metadata file) while catalog handles the same delivery:
    /// those two keys of <paramref name="eventId"/> itself do not count, or a store_create would vouch for itself
    /// whenever audit got there first. Three keys are enough to find one of another event.
    /// </remarks>
    private async ValueTask<string?> StoreSourceAsync(string id, string eventId, CancellationToken cancellationToken)
    {
        var audit = await _rawAudit.ListAsync($"{id}/{EventTypes.StoreCreate}/", null, 3, cancellationToken).ConfigureAwait(false);
        if (audit.Keys.Any(key => !Path.GetFileName(key.AsSpan()).StartsWith($"{eventId}.", StringComparison.Ordinal)))
        {
            return "store_create audit records";
        }

        var catalog = await _processed.ListAsync(StorageKeys.StoreCatalogPrefix(id), null, 1, cancellationToken).ConfigureAwait(false);
        return catalog.Keys.Count > 0 ? "store catalog" : null;
    }

    /// <summary>Ids our buckets vouched for, with where; bounded (forgotten all at once when full, then relearnt).</summary>
    private sealed class KnownIds
    {
        private const int Capacity = 100_000;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _sources = new(StringComparer.Ordinal);

        public string? SourceOf(string id) => _sources.GetValueOrDefault(id);

        public void Remember(string id, string source)
        {
            if (_sources.Count >= Capacity)
            {
                _sources.Clear();
            }

            _sources[id] = source;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The {Entity} {Id} of event {EventId} is not in {Table}; known from our {Source}")]
    private partial void LogFallback(string entity, string id, string table, string source, string eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Entity} {Id} of event {EventId} was found neither in {Table} nor in our buckets; processing continues")]
    private partial void LogMissing(string entity, string id, string table, string eventId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The {Entity} {Id} of event {EventId} is not in our buckets ({Table}); processing continues")]
    private partial void LogMissingUnconsulted(string entity, string id, string table, string eventId);
}
