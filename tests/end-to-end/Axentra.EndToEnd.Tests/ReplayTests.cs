using System.Net;
using System.Text.Json.Nodes;
using Axentra.EndToEnd.Tests.Support;

namespace Axentra.EndToEnd.Tests;

/// <summary>
/// Issue 5, "Replay and rebuild": the raw audit trail is the event log and the catalogs a projection of it. Wipe the
/// processed bucket, replay, and the catalogs are back byte for byte, through the ops API and through the CLI.
/// </summary>
public sealed class ReplayTests(PublishedStandalone build)
{
    private const string Processed = "axentra-webhook-processed";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Wiping_the_processed_bucket_and_replaying_the_audit_trail_restores_the_catalogs_byte_for_byte()
    {
        await using var host = await StandaloneProcess.StartAsync(build);
        var firstDay = UtcDay(); // the audit trail is found by day: a run across midnight (UTC) spans two
        var (storeA, storeB) = (Payloads.NewId("store"), Payloads.NewId("store"));
        var (p1, p2, p3) = (Payloads.NewId("prod"), Payloads.NewId("prod"), Payloads.NewId("prod"));
        byte[][] history =
        [
            Payloads.Store("new_store", storeA, "a.example"),
            Payloads.Product("new_product", storeA, p1, "One", 1m, "2025-12-01T10:00:00Z"),
            Payloads.Product("new_product", storeA, p2, "Two", 2m, "2025-12-01T10:00:00Z"),
            Payloads.Product("product_update", storeA, p1, "One v2", 1.5m, "2025-12-03T10:00:00Z"),
            Payloads.Product("product_update", storeA, p1, "One (late, older)", 0.5m, "2025-12-02T10:00:00Z"),
            Payloads.ProductDeletion(storeA, p2),
            Payloads.Product("new_product", storeB, p3, "Three", 3m, "2025-12-01T10:00:00Z"),
            Payloads.Product("new_product", storeB, p1, "One at B", 9m, "2025-12-01T11:00:00Z"),
            Payloads.Store("deleted_store", storeB, "b.example"),
            StandaloneProcess.Json($$"""{"event_type":"loyalty_points","store_id":"{{storeA}}"}"""),
        ];
        foreach (var body in history)
        {
            await host.WaitForStatusAsync((string)(await host.AcceptAsync(body))["event_id"]!);
        }

        var live = Snapshot(host);
        var kbBefore = host.KbRefreshMessages().Count;
        Assert.Contains($"stores/{storeA}/products/{p1}.json", live.Keys);
        Assert.DoesNotContain($"stores/{storeA}/products/{p2}.json", live.Keys);
        Assert.DoesNotContain(live.Keys, k => k.StartsWith($"stores/{storeB}/", StringComparison.Ordinal));

        Directory.Delete(Path.Combine(host.DataDirectory, Processed), recursive: true);
        var lastDay = UtcDay();
        using (var response = await host.OpsAsync(HttpMethod.Post, $"/catalog/admin/replay?from={firstDay}&to={lastDay}"))
        {
            var report = JsonNode.Parse(await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync(Ct))!;
            Assert.Equal(history.Length, (int)report["events_found"]!);
            Assert.Equal(history.Length - 1, (int)report["events_applied"]!);
            Assert.Equal(1, (int)report["events_skipped"]!); // the unknown event: audited, never catalogued
            Assert.Empty(report["problems"]!.AsArray());
        }

        AssertSameFiles(live, Snapshot(host));
        Assert.Equal(kbBefore, host.KbRefreshMessages().Count); // nothing changed, so the KB hears nothing

        // A range without events replays nothing; a bad request is a 400, not a 5xx.
        using (var empty = await host.OpsAsync(HttpMethod.Post, "/catalog/admin/replay?from=2020-01-01&to=2020-01-31"))
        {
            Assert.Equal(0, (int)JsonNode.Parse(await empty.Content.ReadAsStringAsync(Ct))!["events_found"]!);
        }

        using (var bad = await host.OpsAsync(HttpMethod.Post, "/catalog/admin/replay?from=2025-12-31&to=2025-12-01"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        using (var anonymous = await host.OpsAsync(HttpMethod.Post, $"/catalog/admin/replay?from={firstDay}&to={lastDay}", apiKey: StandaloneProcess.WebhookKey))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        // The CLI, on the stopped host's data directory, one store at a time.
        await host.StopAsync();
        Directory.Delete(Path.Combine(host.DataDirectory, Processed), recursive: true);
        var (exitCode, output) = await host.RunCommandAsync("replay", "--store", storeA, "--from", firstDay, "--to", lastDay);
        Assert.True(exitCode == 0, output);
        var storeAFiles = live.Where(f => f.Key.StartsWith($"stores/{storeA}/", StringComparison.Ordinal)
            || f.Key == $"master/products/{p1}.json" || f.Key == $"master/products/{p2}.json").ToDictionary();
        AssertSameFiles(storeAFiles, Snapshot(host));

        (exitCode, output) = await host.RunCommandAsync("replay", "--from", "2025-12-31", "--to", "2025-12-01");
        Assert.Equal(64, exitCode);

        // --help prints the commands and settings and exits; it does not start a server (it used to).
        (exitCode, output) = await host.RunCommandAsync("--help");
        Assert.True(exitCode == 0, output);
        Assert.Contains("usage: axentra-standalone", output, StringComparison.Ordinal);
        Assert.Contains("replay --from", output, StringComparison.Ordinal);
        Assert.DoesNotContain("ready on", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rebuild_with_recompute_replaces_content_that_older_projection_code_computed()
    {
        await using var host = await StandaloneProcess.StartAsync(build);
        var firstDay = UtcDay(); // the audit trail is found by day: a run across midnight (UTC) spans two
        var (store, product) = (Payloads.NewId("store"), Payloads.NewId("prod"));
        await host.WaitForStatusAsync((string)(await host.AcceptAsync(Payloads.Product("new_product", store, product, "Right name", 4m, "2025-12-01T10:00:00Z")))["event_id"]!);
        var masterKey = $"master/products/{product}.json";
        var correct = File.ReadAllBytes(host.PathOf(Processed, masterKey));
        await host.StopAsync();

        // What a bug in an older release would have left behind: wrong content in the catalog's state and object.
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(host.DataDirectory, "axentra.db")}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE state SET value = CAST(json_set(CAST(value AS TEXT), '$.content.name', 'Buggy name') AS BLOB) WHERE key = $key";
            command.Parameters.AddWithValue("$key", $"catalog:master:{product}");
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(host.PathOf(Processed, masterKey));
        var lastDay = UtcDay();

        // A plain replay restores what the catalog remembers, which is the buggy content.
        var (exitCode, output) = await host.RunCommandAsync("replay", "--store", store, "--from", firstDay, "--to", lastDay);
        Assert.True(exitCode == 0, output);
        Assert.Contains("Buggy name", File.ReadAllText(host.PathOf(Processed, masterKey)), StringComparison.Ordinal);

        // A rebuild recomputes it with today's code.
        (exitCode, output) = await host.RunCommandAsync("replay", "--store", store, "--from", firstDay, "--to", lastDay, "--recompute", "true");
        Assert.True(exitCode == 0, output);
        Assert.Equal(correct, File.ReadAllBytes(host.PathOf(Processed, masterKey)));
    }

    private static Dictionary<string, byte[]> Snapshot(StandaloneProcess host)
    {
        var root = Path.Combine(host.DataDirectory, Processed);
        return !Directory.Exists(root)
            ? []
            : Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .ToDictionary(p => Path.GetRelativePath(root, p).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllBytes);
    }

    private static void AssertSameFiles(Dictionary<string, byte[]> expected, Dictionary<string, byte[]> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, bytes) in expected)
        {
            Assert.True(bytes.AsSpan().SequenceEqual(actual[key]), $"{key} differs after the replay");
        }
    }

    private static string UtcDay() => DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
}
