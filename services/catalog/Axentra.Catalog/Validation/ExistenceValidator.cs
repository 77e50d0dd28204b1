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
/// event writes anything, so an event never vouches for itself.
/// </remarks>
public sealed partial class ExistenceValidator(
    ISourceOfTruth sourceOfTruth, IObjectBuckets buckets, IOptions<CatalogBucketOptions> bucketOptions, ILogger<ExistenceValidator> logger,
    CatalogMetrics? metrics = null)
{
    private readonly IObjectBucket _rawAudit = buckets.Open(bucketOptions.Value.RawAudit);
    private readonly IObjectBucket _processed = buckets.Open(bucketOptions.Value.Processed);

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
        var known = await KnownInOurBucketsAsync(entity, id, cancellationToken).ConfigureAwait(false);
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

        metrics?.ValidationMiss(answer == SourceOfTruthAnswer.NotConsulted ? "none" : table, name, "missing");
        LogMissing(name, id, table, eventId);
        return answer == SourceOfTruthAnswer.NotConsulted
            ? $"{name} {id} not found in our buckets ({table}); processed anyway"
            : $"{name} {id} not found in {table} nor in our buckets; processed anyway";
    }

    private async ValueTask<string?> KnownInOurBucketsAsync(CatalogEntity entity, string id, CancellationToken cancellationToken)
    {
        if (entity == CatalogEntity.Product)
        {
            return await _processed.GetAsync(StorageKeys.MasterProduct(id), cancellationToken).ConfigureAwait(false) is not null
                ? "master catalog"
                : null;
        }

        var audit = await _rawAudit.ListAsync($"{id}/{EventTypes.StoreCreate}/", null, 1, cancellationToken).ConfigureAwait(false);
        if (audit.Keys.Count > 0)
        {
            return "store_create audit records";
        }

        var catalog = await _processed.ListAsync(StorageKeys.StoreCatalogPrefix(id), null, 1, cancellationToken).ConfigureAwait(false);
        return catalog.Keys.Count > 0 ? "store catalog" : null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The {Entity} {Id} of event {EventId} is not in {Table}; known from our {Source}")]
    private partial void LogFallback(string entity, string id, string table, string source, string eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Entity} {Id} of event {EventId} was found neither in {Table} nor in our buckets; processing continues")]
    private partial void LogMissing(string entity, string id, string table, string eventId);
}
