using System.Text.Json;
using Axentra.BuildingBlocks.Bindings;
using Axentra.BuildingBlocks.Registry;
using Axentra.Catalog.Projection;
using Axentra.Contracts;
using Microsoft.Extensions.Options;

namespace Axentra.Catalog.Replay;

/// <summary>What to replay: one store or all, the UTC days of receipt (inclusive).</summary>
/// <param name="StoreId">One store, or null for all.</param>
/// <param name="From">First UTC day of receipt.</param>
/// <param name="To">Last UTC day of receipt.</param>
/// <param name="Recompute">
/// Rebuild after a fix to the projection: entries that already reflect an event take the content today's code
/// computes for it (a real change is announced on the KB-refresh topic). Without it, a replay restores what is
/// missing (a lost bucket, events the catalog never saw) and leaves computed content as it is.
/// </param>
public sealed record ReplayRequest(string? StoreId, DateOnly From, DateOnly To, bool Recompute = false);

/// <summary>What a replay did.</summary>
public sealed record ReplayReport(
    string? StoreId,
    DateOnly From,
    DateOnly To,
    int EventsFound,
    int EventsApplied,
    int EventsSkipped,
    int KbRefreshMessages,
    IReadOnlyList<string> Problems);

/// <summary>
/// Re-drives events from the raw audit trail (the event log) into the catalog projection (issue 5, "Replay and
/// rebuild"): to restore a lost or damaged processed bucket, or to apply events that never reached the catalog.
/// Events go through the same <see cref="CatalogProjection"/> as live deliveries, in receipt order, with the
/// stale-event guard, so the catalogs end as the live pipeline left them (or would have). Nothing is written to
/// the audit trail or the registry and nothing is routed downstream again; a KB refresh is published only where a
/// store's catalog content really changes.
/// </summary>
public sealed partial class CatalogReplay(
    IObjectBuckets buckets, IOptions<CatalogBucketOptions> bucketOptions, EventRegistry registry, CatalogProjection projection, ILogger<CatalogReplay> logger)
{
    private const int ListPageSize = 1000;
    private const int MaxReportedProblems = 100;
    private readonly IObjectBucket _rawAudit = buckets.Open(bucketOptions.Value.RawAudit);

    public async Task<ReplayReport> ReplayAsync(ReplayRequest request, CancellationToken cancellationToken)
    {
        var events = await FindAsync(request, cancellationToken).ConfigureAwait(false);
        LogStarted(request.StoreId ?? "all stores", IsoDate(request.From), IsoDate(request.To), events.Count);

        var applied = 0;
        var skipped = 0;
        var messages = 0;
        var problems = new List<string>();
        foreach (var audited in events)
        {
            var isProduct = EventTypes.IsProductEvent(audited.EventType);
            if (!isProduct && !EventTypes.IsStoreEvent(audited.EventType))
            {
                // Unknown events are audited, never catalogued; their bytes are not even read. (Among them: EventBridge
                // envelopes audited before intake read them through their detail, whose ids hash the whole body.)
                skipped++;
                continue;
            }

            var bytes = await _rawAudit.GetAsync(audited.Key, cancellationToken).ConfigureAwait(false);
            if (bytes is null)
            {
                Problem(problems, $"{audited.Key}: listed but gone");
                continue;
            }

            var record = (await registry.GetAsync(audited.EventId, cancellationToken).ConfigureAwait(false))?.Record;
            var (envelope, problem) = audited.ToEnvelope(bytes, record);
            if (envelope is null)
            {
                Problem(problems, problem!);
                continue;
            }

            if ((isProduct && envelope.ProductId is null) || WebhookPayload.TryParseObject(envelope.Payload) is not { } payload)
            {
                Problem(problems, $"{audited.Key}: no product id or not a JSON object (the live pipeline dropped it too)");
                continue;
            }

            var effect = isProduct
                ? await projection.ApplyProductEventAsync(envelope, payload, cancellationToken, request.Recompute).ConfigureAwait(false)
                : await projection.ApplyStoreEventAsync(envelope, payload, cancellationToken).ConfigureAwait(false);
            messages += effect.KbRefreshMessages;
            applied++;
        }

        LogFinished(request.StoreId ?? "all stores", applied, skipped, problems.Count, messages);
        return new ReplayReport(request.StoreId, request.From, request.To, events.Count, applied, skipped, messages, problems);
    }

    /// <summary>The range's payload objects in receipt order (event ids carry the Unix seconds; ties by event id).</summary>
    private async Task<List<AuditedEvent>> FindAsync(ReplayRequest request, CancellationToken cancellationToken)
    {
        var found = new List<AuditedEvent>();
        var prefix = request.StoreId is null ? "" : request.StoreId + "/";
        string? token = null;
        do
        {
            var page = await _rawAudit.ListAsync(prefix, token, ListPageSize, cancellationToken).ConfigureAwait(false);
            foreach (var key in page.Keys)
            {
                if (AuditedEvent.TryParse(key) is { } audited && audited.Day >= request.From && audited.Day <= request.To)
                {
                    found.Add(audited);
                }
            }

            token = page.ContinuationToken;
        }
        while (token is not null);

        found.Sort((a, b) => a.ReceivedUnixSeconds != b.ReceivedUnixSeconds
            ? a.ReceivedUnixSeconds.CompareTo(b.ReceivedUnixSeconds)
            : string.CompareOrdinal(a.EventId, b.EventId));
        return found;
    }

    private void Problem(List<string> problems, string problem)
    {
        LogProblem(problem);
        if (problems.Count < MaxReportedProblems)
        {
            problems.Add(problem);
        }
    }

    /// <summary>As the report writes a day (yyyy-MM-dd), not in the log's culture.</summary>
    private static string IsoDate(DateOnly day) => day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    public static string ToJson(ReplayReport report) => JsonSerializer.Serialize(report, CatalogJsonContext.Default.ReplayReport);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replay of {Scope} from {From} to {To}: {Count} audited events")]
    private partial void LogStarted(string scope, string from, string to, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replay of {Scope} done: {Applied} applied, {Skipped} skipped, {Problems} problems, {Messages} KB refresh messages")]
    private partial void LogFinished(string scope, int applied, int skipped, int problems, int messages);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replay: {Problem}")]
    private partial void LogProblem(string problem);
}
