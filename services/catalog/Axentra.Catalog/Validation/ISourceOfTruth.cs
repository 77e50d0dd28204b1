namespace Axentra.Catalog.Validation;

public enum CatalogEntity
{
    Store,
    Product,
}

public enum SourceOfTruthAnswer
{
    Found,
    Absent,

    /// <summary>Ben's tables are not consulted here (standalone without an endpoint): only our buckets answer.</summary>
    NotConsulted,
}

/// <summary>
/// Ben's tables, the source of truth for which stores and products exist. Read only: the webhook path never
/// creates or changes anything there. Throws <see cref="BuildingBlocks.BackendUnavailableException"/> when the
/// tables cannot be read after retries, so the event is redelivered later rather than mislabelled.
/// </summary>
public interface ISourceOfTruth
{
    /// <summary>The table consulted for an entity, for warnings and logs.</summary>
    string Describe(CatalogEntity entity);

    ValueTask<SourceOfTruthAnswer> LookupAsync(CatalogEntity entity, string id, CancellationToken cancellationToken);
}

/// <summary>The standalone host without a DynamoDB endpoint: validation relies on our own buckets alone.</summary>
public sealed class UnconsultedSourceOfTruth : ISourceOfTruth
{
    public string Describe(CatalogEntity entity) => "Ben's tables (not configured)";

    public ValueTask<SourceOfTruthAnswer> LookupAsync(CatalogEntity entity, string id, CancellationToken cancellationToken) =>
        ValueTask.FromResult(SourceOfTruthAnswer.NotConsulted);
}
