using System.Net;
using System.Text.Json.Nodes;
using Axentra.EndToEnd.Tests.Support;

namespace Axentra.EndToEnd.Tests;

/// <summary>Webhooks through the published host to their audit object, catalog entries, KB refresh and registry stages.</summary>
public sealed class PipelineTests(PublishedStandalone build) : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string RawAudit = "axentra-webhook-raw-audit";
    private const string Processed = "axentra-webhook-processed";
    private StandaloneProcess _host = null!;

    public async ValueTask InitializeAsync() => _host = await StandaloneProcess.StartAsync(build);

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Every_shared_sample_is_accepted_audited_byte_for_byte_and_catalogued()
    {
        foreach (var name in Payloads.SampleNames())
        {
            var body = Payloads.Sample(name);
            var receipt = await _host.AcceptAsync(body);
            var eventId = (string)receipt["event_id"]!;
            var record = await _host.WaitForStatusAsync(eventId);

            var stages = record["stages"]!.AsArray().Select(s => (string)s!["stage"]!).ToList();
            Assert.Equal(["audited", "catalogued", "received"], stages.Order(StringComparer.Ordinal));
            Assert.Equal(body, await File.ReadAllBytesAsync(_host.PathOf(RawAudit, (string)receipt["s3_key"]!), Ct));
            Assert.Equal((string)receipt["event_type"]!, (string)record["event_type"]!);
            if ((string)receipt["event_type"]! == "store_create")
            {
                var metadata = JsonNode.Parse(await File.ReadAllTextAsync(_host.PathOf(RawAudit, ((string)receipt["s3_key"]!)[..^5] + ".metadata.json"), Ct))!;
                Assert.Equal((string)receipt["store_id"]!, (string)metadata["metadataAttributes"]!["store_id"]!);
            }

            if ((string)receipt["event_type"]! is "product_create" or "product_update")
            {
                Assert.True(File.Exists(_host.PathOf(Processed, $"master/products/{receipt["product_id"]}.json")), $"{name}: no master entry");
            }
        }
    }

    [Fact]
    public async Task Every_event_type_reaches_its_catalog_effect_and_the_KB_hears_of_each_real_change()
    {
        var store = Payloads.NewId("store");
        var product = Payloads.NewId("prod");

        var created = await CompleteAsync(Payloads.Store("new_store", store, "e2e.example"), "store_create");
        var updatedStore = await CompleteAsync(Payloads.Store("updated_store", store, "e2e-renamed.example"), "store_update");
        var newProduct = await CompleteAsync(Payloads.Product("new_product", store, product, "Vitamin D3", 19.99m, "2025-12-01T10:00:00Z"), "product_create");

        var master = JsonNode.Parse(await File.ReadAllTextAsync(_host.PathOf(Processed, $"master/products/{product}.json"), Ct))!.AsObject();
        var copy = JsonNode.Parse(await File.ReadAllTextAsync(_host.PathOf(Processed, $"stores/{store}/products/{product}.json"), Ct))!.AsObject();
        Assert.Equal("Vitamin D3", (string)master["name"]!);
        Assert.False(master.ContainsKey("store_id"));
        Assert.False(master.ContainsKey("created_at"));
        Assert.False(master["categories"]![0]!.AsObject().ContainsKey("user_id"));
        Assert.Equal(19.99m, (decimal)copy["product_variants"]![0]!["price"]!);
        Assert.False(copy["product_variants"]![0]!.AsObject().ContainsKey("stock_quantity"));

        var updated = await CompleteAsync(Payloads.Product("product_update", store, product, "Vitamin D3 (90)", 29.99m, "2025-12-02T10:00:00Z"), "product_update");
        copy = JsonNode.Parse(await File.ReadAllTextAsync(_host.PathOf(Processed, $"stores/{store}/products/{product}.json"), Ct))!.AsObject();
        Assert.Equal(29.99m, (decimal)copy["product_variants"]![0]!["price"]!);

        // An older update arriving late (SQS reorders) must not overwrite the newer one.
        var stale = await CompleteAsync(Payloads.Product("product_update", store, product, "old name", 9.99m, "2025-12-01T12:00:00Z"), "product_update");
        Assert.Contains("stale", (string)stale["stages"]!.AsArray().First(s => (string)s!["stage"]! == "catalogued")!["reason"]!, StringComparison.Ordinal);
        Assert.Equal("Vitamin D3 (90)", (string)JsonNode.Parse(await File.ReadAllTextAsync(_host.PathOf(Processed, $"master/products/{product}.json"), Ct))!["name"]!);

        var deleted = await CompleteAsync(Payloads.ProductDeletion(store, product), "product_delete");
        Assert.False(File.Exists(_host.PathOf(Processed, $"stores/{store}/products/{product}.json")));
        Assert.True(File.Exists(_host.PathOf(Processed, $"master/products/{product}.json")), "a product deletion keeps the master");

        var other = Payloads.NewId("prod");
        var second = await CompleteAsync(Payloads.Product("new_product", store, other, "Zinc", 5m, "2025-12-03T10:00:00Z"), "product_create");
        var storeDeleted = await CompleteAsync(Payloads.Store("deleted_store", store, "e2e-renamed.example"), "store_delete");
        Assert.False(File.Exists(_host.PathOf(Processed, $"stores/{store}/products/{other}.json")));

        var unknown = await CompleteAsync(StandaloneProcess.Json($$"""{"event_type":"inventory_recount","store_id":"{{store}}"}"""), "unknown");
        Assert.Contains("skipped", (string)unknown["stages"]!.AsArray().First(s => (string)s!["stage"]! == "catalogued")!["reason"]!, StringComparison.Ordinal);

        var messages = _host.KbRefreshMessages().Where(m => (string)m["store_id"]! == store).ToList();
        string[] Announced(JsonObject record) =>
            messages.Where(m => m["event_ids"]!.AsArray().Any(id => (string)id! == (string)record["event_id"]!)).Select(m => (string)m["change"]!).ToArray();
        Assert.Equal(["upsert"], Announced(newProduct));
        Assert.Equal(["upsert"], Announced(updated));
        Assert.Equal(["delete"], Announced(deleted));
        Assert.Equal(["upsert"], Announced(second));
        Assert.Equal(["delete"], Announced(storeDeleted));
        Assert.Empty(Announced(stale));
        Assert.Empty(Announced(created));
        Assert.Empty(Announced(updatedStore));
        Assert.Empty(Announced(unknown));
        Assert.Equal(5, messages.Count);
        Assert.All(messages, m => Assert.Equal($"stores/{store}/products/", (string)m["catalog_prefix"]!));
    }

    [Fact]
    public async Task A_redelivery_is_answered_200_with_the_original_identity_and_counted_on_the_original_record()
    {
        var store = Payloads.NewId("store");
        var product = Payloads.NewId("prod");
        var body = Payloads.Product("new_product", store, product, "Omega 3", 12.5m, "2025-12-01T10:00:00Z");
        var original = await _host.AcceptAsync(body);
        await _host.WaitForStatusAsync((string)original["event_id"]!);

        // The same event, re-serialised by the sender (key order, whitespace): still the same payload hash.
        var reserialised = JsonNode.Parse(body)!.AsObject();
        var reordered = new JsonObject(reserialised.Reverse().Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
        foreach (var redelivery in new[] { body, StandaloneProcess.Json(reordered.ToJsonString(new() { WriteIndented = true })) })
        {
            using var response = await _host.PostWebhookAsync(redelivery);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;
            Assert.True((bool)answer["duplicate"]!);
            foreach (var field in new[] { "event_id", "payload_hash", "s3_key", "store_id", "product_id", "event_type" })
            {
                Assert.Equal((string?)original[field], (string?)answer[field]);
            }
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        JsonObject? record;
        do
        {
            await Task.Delay(100, Ct);
            record = await _host.GetEventAsync((string)original["event_id"]!);
        }
        while ((long)record!["duplicate_count"]! < 2 && DateTime.UtcNow < deadline);
        Assert.Equal(2, (long)record["duplicate_count"]!);

        using var byHash = await _host.OpsAsync(HttpMethod.Get, $"/events?payload_hash={original["payload_hash"]}");
        Assert.Equal((string)original["event_id"]!, (string)JsonNode.Parse(await byHash.Content.ReadAsStringAsync(Ct))!["event_id"]!);

        // One audit object, one KB message: the redeliveries changed nothing downstream.
        Assert.Single(Directory.EnumerateFiles(Path.Combine(_host.DataDirectory, RawAudit, store), "*.json", SearchOption.AllDirectories));
        Assert.Single(_host.KbRefreshMessages(), m => (string)m["store_id"]! == store);
    }

    private async Task<JsonObject> CompleteAsync(byte[] body, string expectedType)
    {
        var receipt = await _host.AcceptAsync(body);
        Assert.Equal(expectedType, (string)receipt["event_type"]!);
        Assert.False((bool)receipt["duplicate"]!);
        return await _host.WaitForStatusAsync((string)receipt["event_id"]!);
    }
}
