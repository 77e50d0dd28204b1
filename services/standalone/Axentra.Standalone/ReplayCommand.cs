using Axentra.BuildingBlocks.Embedded;
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

    private const string Usage = "usage: axentra-standalone replay [--store STORE_ID] --from yyyy-MM-dd --to yyyy-MM-dd [--recompute [true|false]] (UTC days, inclusive)";

    public static async Task<int> RunAsync(string[] args)
    {
        if (Program.AsksForHelp(args))
        {
            await Console.Out.WriteLineAsync(Usage).ConfigureAwait(false);
            return 0;
        }

        var (builder, dataDirectory) = Program.CreateBuilder(WithFlagValues(args), provisionCredentials: false, createDataDirectory: false);
        var store = builder.Configuration["store"];
        var recomputeSetting = builder.Configuration["recompute"];
        var recompute = false;
        if ((store is not null && !SafeKeySegment.IsValid(store)) || !TryParseDay(builder.Configuration["from"], out var from)
            || !TryParseDay(builder.Configuration["to"], out var to) || from > to
            || (recomputeSetting is not null && !bool.TryParse(recomputeSetting, out recompute)))
        {
            await Console.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return 64;
        }

        if (!File.Exists(Path.Combine(dataDirectory, EmbeddedDatabase.FileName)))
        {
            // A mistyped --Standalone:DataDir (or the wrong working directory) used to create an empty data directory and
            // report "0 of 0 events", exit 0: nothing says the path was wrong.
            await Console.Error.WriteLineAsync($"no pipeline data in {dataDirectory} (no {EmbeddedDatabase.FileName}): point --Standalone:DataDir at the host's data directory").ConfigureAwait(false);
            return 66; // EX_NOINPUT
        }

        // Built, never started: no web server, no queue dispatcher. KB refresh messages are queued durably and
        // delivered when the host next runs (and appended to the topic file at once).
        var app = builder.Build();
        await using (app.ConfigureAwait(false))
        {
            var replay = app.Services.GetRequiredService<CatalogReplay>();
            var report = await replay.ReplayAsync(new ReplayRequest(store, from, to, recompute), CancellationToken.None).ConfigureAwait(false);
            await Console.Out.WriteLineAsync(CatalogReplay.ToJson(report)).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"replayed {report.EventsApplied} of {report.EventsFound} audited events from {dataDirectory}; {report.Problems.Count} problems").ConfigureAwait(false);
            return report.Problems.Count == 0 ? 0 : 1;
        }
    }

    /// <summary><c>--recompute</c> given alone (last, or before another switch) means <c>--recompute=true</c>, as a flag reads.</summary>
    private static string[] WithFlagValues(string[] args) =>
        [.. args.Select((a, i) => a == "--recompute" && (i == args.Length - 1 || args[i + 1].StartsWith('-')) ? "--recompute=true" : a)];

    private static bool TryParseDay(string? value, out DateOnly day) =>
        DateOnly.TryParseExact(value, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out day);
}
