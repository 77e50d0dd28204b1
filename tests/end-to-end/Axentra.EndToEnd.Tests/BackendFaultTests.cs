using System.Text.Json.Nodes;
using Axentra.EndToEnd.Tests.Support;

namespace Axentra.EndToEnd.Tests;

/// <summary>
/// The processed bucket breaks while webhooks keep coming: retried, dead-lettered, one resolved by an operator, the rest
/// redriven, nothing lost.
/// </summary>
public sealed class BackendFaultTests(PublishedStandalone build)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_broken_processed_bucket_dead_letters_catalog_work_and_a_redrive_after_repair_loses_nothing_but_what_was_resolved()
    {
        await using var host = await StandaloneProcess.StartAsync(build, new Dictionary<string, string>
        {
            ["Standalone:Queue:MaxAttempts"] = "3",
            ["Standalone:Queue:InitialBackoff"] = "00:00:00.050",
            ["Standalone:Queue:MaxBackoff"] = "00:00:00.200",
        });
        var store = Payloads.NewId("store");
        var first = await host.AcceptAsync(Payloads.Product("new_product", store, Payloads.NewId("prod"), "before", 1m, "2025-12-01T10:00:00Z"));
        await host.WaitForStatusAsync((string)first["event_id"]!);

        // The tests run as root, so permissions would not stop a write: a regular file where the bucket's folder was does.
        var processed = Path.Combine(host.DataDirectory, "axentra-webhook-processed");
        var aside = processed + ".aside";
        Directory.Move(processed, aside);
        await File.WriteAllTextAsync(processed, "not a directory", Ct);

        var products = Enumerable.Range(0, 5).Select(_ => Payloads.NewId("prod")).ToList();
        var receipts = new List<JsonObject>();
        foreach (var (product, i) in products.Select((p, i) => (p, i)))
        {
            receipts.Add(await host.AcceptAsync(Payloads.Product("new_product", store, product, $"during {i}", 2m + i, "2025-12-01T10:00:00Z")));
        }

        foreach (var receipt in receipts)
        {
            var record = await host.WaitForStatusAsync((string)receipt["event_id"]!, "dead_lettered");
            var stages = record["stages"]!.AsArray().Select(s => (string)s!["stage"]!).ToList();
            Assert.Contains("audited", stages); // the raw audit trail is a different bucket: unaffected
            Assert.Contains("dead_lettered:catalog", stages);
        }

        string firstMessageId, lastMessageId;
        using (var list = await host.OpsAsync(HttpMethod.Get, "/admin/dead-letters?subscriber=catalog"))
        {
            var letters = JsonNode.Parse(await list.EnsureSuccessStatusCode().Content.ReadAsStringAsync(Ct))!.AsArray();
            Assert.Equal(5, letters.Count);
            Assert.All(letters, l =>
            {
                Assert.Equal(3, (int)l!["attempts"]!);
                Assert.False(string.IsNullOrEmpty((string?)l["reason"]));
                Assert.Equal(System.Text.Json.JsonValueKind.String, l["message_id"]!.GetValueKind()); // the same contract as the distributed mode
            });
            firstMessageId = (string)letters[0]!["message_id"]!;
            lastMessageId = (string)letters[4]!["message_id"]!;
        }

        // An operator decides the last one will never be wanted: resolved, with why, and never catalogued.
        using (var resolve = await host.OpsAsync(HttpMethod.Post, $"/admin/dead-letters/catalog/{lastMessageId}/resolve?reason=superseded"))
        {
            Assert.Equal(System.Net.HttpStatusCode.NoContent, resolve.StatusCode);
        }

        var resolved = await host.WaitForStatusAsync((string)receipts[4]["event_id"]!, "resolved");
        Assert.Equal("superseded", (string)resolved["stages"]!.AsArray().Single(s => (string)s!["stage"]! == "resolved:catalog")!["reason"]!);

        File.Delete(processed);
        Directory.Move(aside, processed);
        using (var one = await host.OpsAsync(HttpMethod.Post, $"/admin/dead-letters/catalog/{firstMessageId}/redrive"))
        {
            Assert.Equal(1, (int)JsonNode.Parse(await one.EnsureSuccessStatusCode().Content.ReadAsStringAsync(Ct))!["redriven"]!);
        }

        using (var redrive = await host.OpsAsync(HttpMethod.Post, "/admin/dead-letters/redrive?subscriber=catalog"))
        {
            Assert.Equal(3, (int)JsonNode.Parse(await redrive.EnsureSuccessStatusCode().Content.ReadAsStringAsync(Ct))!["redriven"]!);
        }

        foreach (var (receipt, i) in receipts.Select((r, i) => (r, i)).SkipLast(1))
        {
            await host.WaitForStatusAsync((string)receipt["event_id"]!);
            var copy = JsonNode.Parse(await File.ReadAllTextAsync(host.PathOf("axentra-webhook-processed", $"stores/{store}/products/{products[i]}.json"), Ct))!;
            Assert.Equal($"during {i}", (string)copy["name"]!);
        }

        using (var list = await host.OpsAsync(HttpMethod.Get, "/admin/dead-letters"))
        {
            Assert.Empty(JsonNode.Parse(await list.Content.ReadAsStringAsync(Ct))!.AsArray());
        }

        var announced = host.KbRefreshMessages().Where(m => (string)m["store_id"]! == store).SelectMany(m => m["event_ids"]!.AsArray().Select(id => (string)id!)).ToList();
        Assert.Equal(receipts.SkipLast(1).Select(r => (string)r["event_id"]!).Append((string)first["event_id"]!).Order(), announced.Order());
        Assert.False(File.Exists(host.PathOf("axentra-webhook-processed", $"stores/{store}/products/{products[4]}.json")));
        await host.WaitForStatusAsync((string)receipts[4]["event_id"]!, "resolved"); // the redrive of the rest left it alone
    }
}
