using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Axentra.EndToEnd.Tests.Support;

namespace Axentra.EndToEnd.Tests;

/// <summary>
/// design.md §4 and issue 5: kill -9 at any moment, restart, and every event that got a 202 ends audited and
/// catalogued exactly once.
/// </summary>
public sealed class CrashRecoveryTests(PublishedStandalone build, ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const int Events = 400;
    private const int Senders = 8;
    private const int KillAfterAccepted = 150;
    private const int Stores = 10;

    [Fact]
    public async Task Kill_9_under_load_then_restart_loses_no_acknowledged_event_and_processes_each_once()
    {
        // A short claim lease so the senders' retries can take over claims the dead process left pending.
        await using var host = await StandaloneProcess.StartAsync(build, new Dictionary<string, string> { ["Intake:ClaimLease"] = "00:00:02" });
        var run = Guid.NewGuid().ToString("N")[..8];
        var bodies = Enumerable.Range(0, Events)
            .Select(i => Payloads.Product("new_product", $"crash-{run}-s{i % Stores}", $"crash-{run}-p{i}", $"Product {i}", 10m + i, "2025-12-01T10:00:00Z"))
            .ToArray();
        var receipts = new ConcurrentDictionary<int, JsonObject>();
        var next = -1;
        var killed = new TaskCompletionSource();

        async Task SendAsync()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < Events)
            {
                try
                {
                    using var response = await host.PostWebhookAsync(bodies[i]);
                    if (response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK)
                    {
                        receipts[i] = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!.AsObject();
                        if (receipts.Count == KillAfterAccepted)
                        {
                            killed.TrySetResult();
                        }
                    }
                }
                catch (HttpRequestException)
                {
                    // The process is gone: this sender, like EventBridge, will retry after the restart.
                }
                catch (TaskCanceledException)
                {
                }
            }
        }

        var senders = Enumerable.Range(0, Senders).Select(_ => Task.Run(SendAsync)).ToArray();
        await killed.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await host.KillAsync();
        await Task.WhenAll(senders);
        var acknowledgedBeforeKill = receipts.Count;
        output.WriteLine($"{acknowledgedBeforeKill} of {Events} acknowledged before kill -9");
        Assert.InRange(acknowledgedBeforeKill, KillAfterAccepted, Events - 1);

        await host.RestartAsync();
        await Parallel.ForEachAsync(
            Enumerable.Range(0, Events).Where(i => !receipts.ContainsKey(i)),
            new ParallelOptions { MaxDegreeOfParallelism = Senders },
            async (i, _) => receipts[i] = await RetryUntilAcceptedAsync(host, bodies[i]));

        // Every event ends audited and catalogued.
        var eventIds = receipts.Values.Select(r => (string)r["event_id"]!).Distinct().ToList();
        Assert.Equal(Events, eventIds.Count);
        await Parallel.ForEachAsync(eventIds, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (id, _) =>
        {
            var record = await host.WaitForStatusAsync(id, timeout: TimeSpan.FromSeconds(60));
            var stages = record["stages"]!.AsArray().Select(s => (string)s!["stage"]!).ToHashSet();
            Assert.Superset(new HashSet<string> { "received", "audited", "catalogued" }, stages);
        });

        // Exactly one audit object per event, holding exactly the bytes that were sent; nothing else in the trail.
        var rawAudit = Path.Combine(host.DataDirectory, "axentra-webhook-raw-audit");
        var auditFiles = Directory.EnumerateFiles(rawAudit, "*.json", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(rawAudit, p).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(k => k.StartsWith($"crash-{run}-", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(receipts.Values.Select(r => (string)r["s3_key"]!).Order(StringComparer.Ordinal), auditFiles);
        foreach (var (i, receipt) in receipts)
        {
            Assert.Equal(bodies[i], await File.ReadAllBytesAsync(Path.Combine(rawAudit, (string)receipt["s3_key"]!), Ct));
        }

        // The catalogs hold every product once, with its own store's price.
        for (var i = 0; i < Events; i++)
        {
            var copy = JsonNode.Parse(await File.ReadAllTextAsync(host.PathOf("axentra-webhook-processed", $"stores/crash-{run}-s{i % Stores}/products/crash-{run}-p{i}.json"), Ct))!;
            Assert.Equal(10m + i, (decimal)copy["product_variants"]![0]!["price"]!);
            Assert.True(File.Exists(host.PathOf("axentra-webhook-processed", $"master/products/crash-{run}-p{i}.json")));
        }

        Assert.Equal(Stores, Directory.GetDirectories(Path.Combine(host.DataDirectory, "axentra-webhook-processed", "stores")).Count(d => Path.GetFileName(d).StartsWith($"crash-{run}-", StringComparison.Ordinal)));
        Assert.Equal(Events / Stores, Directory.GetFiles(host.PathOf("axentra-webhook-processed", $"stores/crash-{run}-s0/products")).Length);

        // The KB heard of every product. Redeliveries announce nothing; only a crash between a KB publish and its
        // acknowledgement can repeat one (at least once, docs/catalog.md), so at most the events in flight at the kill.
        var announced = host.KbRefreshMessages()
            .Where(m => ((string)m["store_id"]!).StartsWith($"crash-{run}-", StringComparison.Ordinal))
            .SelectMany(m => m["event_ids"]!.AsArray().Select(id => (string)id!))
            .GroupBy(id => id).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(eventIds.Order(StringComparer.Ordinal), announced.Keys.Order(StringComparer.Ordinal));
        var repeated = announced.Count(p => p.Value > 1);
        output.WriteLine($"{repeated} KB announcements repeated after the crash");
        Assert.InRange(repeated, 0, Events - acknowledgedBeforeKill + Senders * 8);
        Assert.DoesNotContain(announced, p => p.Value > 2);
    }

    private static async Task<JsonObject> RetryUntilAcceptedAsync(StandaloneProcess host, byte[] body)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await host.PostWebhookAsync(body);
            if (response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK)
            {
                return JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!.AsObject();
            }

            // 503 + Retry-After: a claim of the dead process is still inside its lease.
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.True(DateTime.UtcNow < deadline, "the retry was never accepted");
            await Task.Delay(250, Ct);
        }
    }
}
