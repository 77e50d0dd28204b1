using Axentra.Catalog.Replay;
using Axentra.Contracts;

namespace Axentra.Standalone;

/// <summary>
/// <c>axentra-standalone replay [--store S] --from yyyy-MM-dd --to yyyy-MM-dd [--recompute true] [--Standalone:DataDir …]</c>: rebuilds
/// the catalogs from the raw audit trail in the data directory, prints the report (JSON) and exits; the same work as
/// <c>POST /catalog/admin/replay</c> on a running host (docs/operations.md).
/// </summary>
internal static class ReplayCommand
{
    public const string Name = "replay";

    public static async Task<int> RunAsync(string[] args)
    {
        var (builder, dataDirectory) = Program.CreateBuilder(args, provisionCredentials: false);
        var store = builder.Configuration["store"];
        if ((store is not null && !SafeKeySegment.IsValid(store)) || !TryParseDay(builder.Configuration["from"], out var from)
            || !TryParseDay(builder.Configuration["to"], out var to) || from > to)
        {
            await Console.Error.WriteLineAsync("usage: axentra-standalone replay [--store STORE_ID] --from yyyy-MM-dd --to yyyy-MM-dd [--recompute true] (UTC days, inclusive)").ConfigureAwait(false);
            return 64;
        }

        // Built, never started: no web server, no queue dispatcher. KB refresh messages are queued durably and
        // delivered when the host next runs (and appended to the topic file at once).
        var app = builder.Build();
        await using (app.ConfigureAwait(false))
        {
            var replay = app.Services.GetRequiredService<CatalogReplay>();
            var recompute = builder.Configuration.GetValue("recompute", false);
            var report = await replay.ReplayAsync(new ReplayRequest(store, from, to, recompute), CancellationToken.None).ConfigureAwait(false);
            await Console.Out.WriteLineAsync(CatalogReplay.ToJson(report)).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"replayed {report.EventsApplied} of {report.EventsFound} audited events from {dataDirectory}; {report.Problems.Count} problems").ConfigureAwait(false);
            return report.Problems.Count == 0 ? 0 : 1;
        }
    }

    private static bool TryParseDay(string? value, out DateOnly day) =>
        DateOnly.TryParseExact(value, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out day);
}
