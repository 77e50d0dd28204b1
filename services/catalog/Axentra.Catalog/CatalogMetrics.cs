using System.Diagnostics.Metrics;
using Axentra.Contracts;

namespace Axentra.Catalog;

/// <summary>The catalog's metrics (meter <c>Axentra.Catalog</c>).</summary>
public sealed class CatalogMetrics
{
    public const string MeterName = "Axentra.Catalog";

    private readonly Counter<long> _events;
    private readonly Counter<long> _kbRefresh;
    private readonly Counter<long> _warnings;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _validationMisses;
    private readonly Counter<long> _writes;

    public CatalogMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _events = meter.CreateCounter<long>("axentra.catalog.events", description: "Events handled by the catalog, by event type and delivery outcome");
        _kbRefresh = meter.CreateCounter<long>("axentra.catalog.kb_refresh", description: "KB-refresh messages published, by change");
        _warnings = meter.CreateCounter<long>("axentra.catalog.validation_warnings", description: "Validation warnings recorded on events");
        _validationMisses = meter.CreateCounter<long>("axentra.catalog.validation_misses",
            description: "Stores/products not found in Ben's tables, by table, entity and resolution (fallback: known from our buckets; missing: nowhere)");
        _duration = meter.CreateHistogram<double>("axentra.catalog.duration", unit: "ms", description: "Time to handle one event");
        _writes = meter.CreateCounter<long>("axentra.catalog.writes",
            description: "Catalog objects written to the processed bucket, by catalog (master, store) and operation (put, delete)");
    }

    public void Handled(string eventType, string outcome, double milliseconds)
    {
        _events.Add(1, new KeyValuePair<string, object?>("event_type", eventType), new KeyValuePair<string, object?>("outcome", outcome));
        _duration.Record(milliseconds);
    }

    public void KbRefreshPublished(string change) => _kbRefresh.Add(1, new KeyValuePair<string, object?>("change", change));

    public void Warnings(int count)
    {
        if (count > 0)
        {
            _warnings.Add(count);
        }
    }

    /// <summary>An object of the master or a store catalog written (put) or removed (delete) in the processed bucket.</summary>
    public void Written(string objectKey, bool deleted) =>
        _writes.Add(1, new KeyValuePair<string, object?>("catalog", objectKey.StartsWith(StorageKeys.MasterPrefix, StringComparison.Ordinal) ? "master" : "store"),
            new KeyValuePair<string, object?>("operation", deleted ? "delete" : "put"));

    /// <param name="table">The source-of-truth table consulted (a handful of names, never an id).</param>
    /// <param name="entity">store or product.</param>
    /// <param name="resolution">fallback (known from our buckets) or missing (found nowhere).</param>
    public void ValidationMiss(string table, string entity, string resolution) =>
        _validationMisses.Add(1, new KeyValuePair<string, object?>("table", table), new KeyValuePair<string, object?>("entity", entity),
            new KeyValuePair<string, object?>("resolution", resolution));
}
