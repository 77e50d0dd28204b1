using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Axentra.BuildingBlocks.Registry;
using Axentra.Catalog.Tests.Support;
using Axentra.Contracts;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Axentra.Catalog.Tests.Standalone;

/// <summary>The catalog inside the real standalone host: samples posted to the webhook, catalogs read from disk and through /catalog.</summary>
public sealed class StandaloneCatalogTests : IAsyncLifetime
{
    private const string WebhookKey = "webhook-test-key";
    private const string OpsKey = "ops-test-key";
    private const string StoreId = "223e4567-e89b-12d3-a456-426614174000";
    private const string ProductId = "123e4567-e89b-12d3-a456-426614174000";

    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("axentra-catalog-tests-").FullName;
    private WebApplicationFactory<Axentra.Standalone.Program> _factory = null!;
    private HttpClient _client = null!;

    public ValueTask InitializeAsync()
    {
        _factory = new WebApplicationFactory<Axentra.Standalone.Program>().WithWebHostBuilder(web =>
        {
            web.UseSetting("Standalone:DataDir", _dataDirectory);
            web.UseSetting("Intake:Auth:ApiKeys:0", WebhookKey);
            web.UseSetting("Ops:Auth:ApiKeys:0", OpsKey);
            web.UseSetting("Standalone:Queue:InitialBackoff", "00:00:00.050");
            web.UseSetting("Logging:LogLevel:Default", "Warning");
        });
        _client = _factory.CreateClient();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Processed(string key) => Path.Combine(_dataDirectory, PlatformNames.Buckets.Processed, key);

    private string KbRefreshFile => Path.Combine(_dataDirectory, "topics", PlatformNames.Topics.KbRefresh + ".jsonl");

    [Fact]
    public async Task Posted_samples_end_up_in_the_catalogs_on_disk_in_the_api_and_on_the_kb_refresh_topic()
    {
        await PostAsync("new_store.json");
        var created = await PostAsync("new_product.json");
        await WaitForCatalogued(created);
        var updated = await PostAsync("product_update.json");
        await WaitForCatalogued(updated);

        var copy = JsonNode.Parse(await File.ReadAllTextAsync(Processed($"stores/{StoreId}/products/{ProductId}.json"), Ct))!;
        Assert.Equal(29.99, copy["product_variants"]![0]!["price"]!.GetValue<double>());
        var master = JsonNode.Parse(await File.ReadAllTextAsync(Processed($"master/products/{ProductId}.json"), Ct))!;
        Assert.Equal("Vitamin D3 5000 IU (90 softgels)", master["name"]!.GetValue<string>());
        Assert.Null(master["store_id"]);

        Assert.Equal(copy.ToJsonString(), (await GetOpsAsync<JsonNode>($"/catalog/stores/{StoreId}/products/{ProductId}")).ToJsonString());
        Assert.Equal(master.ToJsonString(), (await GetOpsAsync<JsonNode>($"/catalog/products/{ProductId}")).ToJsonString());
        var page = await GetOpsAsync<JsonNode>($"/catalog/stores/{StoreId}/products");
        Assert.Equal(ProductId, page["products"]![0]!["product_id"]!.GetValue<string>());
        Assert.Equal("active", page["status"]!.GetValue<string>());

        var lines = await File.ReadAllLinesAsync(KbRefreshFile, Ct);
        Assert.Equal(2, lines.Length);
        var last = JsonNode.Parse(lines[^1])!;
        Assert.Equal(("upsert", StoreId, $"stores/{StoreId}/products/", updated), (
            last["change"]!.GetValue<string>(), last["store_id"]!.GetValue<string>(), last["catalog_prefix"]!.GetValue<string>(), last["event_ids"]![0]!.GetValue<string>()));

        var deleted = await PostAsync("product_deletion.json");
        await WaitForCatalogued(deleted);
        Assert.False(File.Exists(Processed($"stores/{StoreId}/products/{ProductId}.json")));
        Assert.True(File.Exists(Processed($"master/products/{ProductId}.json")));
        Assert.Equal("delete", JsonNode.Parse((await File.ReadAllLinesAsync(KbRefreshFile, Ct))[^1])!["change"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await SendOpsAsync($"/catalog/stores/{StoreId}/products/{ProductId}")).StatusCode);
    }

    [Fact]
    public async Task A_supabase_row_is_stored_stripped_and_the_audit_trail_is_untouched()
    {
        var eventId = await PostAsync("supabase_insert_product.json");
        await WaitForCatalogued(eventId);

        var onDisk = await File.ReadAllTextAsync(Processed("stores/223e4567-e89b-12d3-a456-426614174000/products/7d3f2c1a-9b8e-4f6d-a5c4-3b2a1f0e9d8c.json"), Ct);
        Domain.FieldStrippingTests.AssertStripped(JsonNode.Parse(onDisk)!.AsObject(), "standalone store copy");
        var view = await _factory.Services.GetRequiredService<EventRegistry>().GetAsync(eventId, CancellationToken.None);
        Assert.Contains(view!.Stages, s => s.Stage == Stages.Catalogued);
    }

    [Fact]
    public async Task The_catalog_api_needs_an_ops_key_and_checks_ids()
    {
        using var noKey = new HttpRequestMessage(HttpMethod.Get, $"/catalog/products/{ProductId}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.SendAsync(noKey, Ct)).StatusCode);
        using var senderKey = new HttpRequestMessage(HttpMethod.Get, $"/catalog/products/{ProductId}");
        senderKey.Headers.Add("x-api-key", WebhookKey);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.SendAsync(senderKey, Ct)).StatusCode);

        var badId = await SendOpsAsync("/catalog/stores/bad%20id/products");
        Assert.Equal(HttpStatusCode.BadRequest, badId.StatusCode);
        Assert.Equal("application/problem+json", badId.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.BadRequest, (await SendOpsAsync($"/catalog/stores/{StoreId}/products?limit=0")).StatusCode);
        var missing = await SendOpsAsync("/catalog/products/no-such-product");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_store_catalog_is_listed_page_by_page()
    {
        for (var i = 0; i < 5; i++)
        {
            var id = await PostJsonAsync($$$"""{"event_type":"new_product","products":{"product_id":"p-{{{i}}}","store_id":"paged-store","name":"n{{{i}}}","product_variants":[{"price":{{{i}}}}]}}""");
            await WaitForCatalogued(id);
        }

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await GetOpsAsync<JsonNode>($"/catalog/stores/paged-store/products?limit=2{(cursor is null ? "" : "&cursor=" + cursor)}");
            seen.AddRange(page["products"]!.AsArray().Select(p => p!["product_id"]!.GetValue<string>()));
            cursor = page["next_cursor"]?.GetValue<string>();
        }
        while (cursor is not null);

        Assert.Equal(["p-0", "p-1", "p-2", "p-3", "p-4"], seen);
    }

    [Fact]
    public async Task An_eventbridge_event_as_an_api_destination_posts_it_is_audited_whole_and_catalogued_from_its_detail()
    {
        // EventBridge's envelope, as an API destination without an input transformer sends it, around a Supabase
        // database webhook (shared/samples/supabase_insert_product.json's shape).
        var detail = Samples.Bytes("supabase_insert_product.json").AsString();
        var body = $$"""
            {"version":"0","id":"1d3f5a2c-8b0e-4f7e-9c6a-2b4d6f8a0c1e","detail-type":"Supabase Database Webhook","source":"supabase.webhooks",
             "account":"111122223333","time":"2026-12-05T10:00:00Z","region":"us-east-1","resources":[],"detail":{{detail}}}
            """;
        var eventId = await PostJsonAsync(body);
        await WaitForCatalogued(eventId);

        var detailNode = JsonNode.Parse(detail)!;
        var record = detailNode["record"]!;
        var productId = record["id"]!.GetValue<string>();
        var storeId = record["store_id"]!.GetValue<string>();
        var view = await _factory.Services.GetRequiredService<EventRegistry>().GetAsync(eventId, Ct);
        Assert.Equal(EventTypes.ProductCreate, view!.Record.EventType);
        Assert.Equal(storeId, view.Record.StoreId);
        Assert.True(File.Exists(Processed($"master/products/{productId}.json")), "master copy from the envelope's detail");
        Assert.True(File.Exists(Processed($"stores/{storeId}/products/{productId}.json")), "store copy from the envelope's detail");

        // The audit trail keeps the body as received: the envelope, byte for byte.
        var audited = Path.Combine(_dataDirectory, PlatformNames.Buckets.RawAudit, view.Record.S3Key);
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(body), await File.ReadAllBytesAsync(audited, Ct));

        // The same change posted directly is the same event: a duplicate.
        using var direct = new HttpRequestMessage(HttpMethod.Post, "/webhooks/supabase") { Content = new StringContent(detail) };
        direct.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        direct.Headers.Add("x-api-key", WebhookKey);
        var again = await _client.SendAsync(direct, Ct);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(eventId, (await again.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("event_id").GetString());
    }

    [Fact]
    public async Task A_replay_lists_an_audited_object_with_a_member_name_twice_as_a_problem_and_goes_on()
    {
        // Audited before intake refused such bodies: its key names it, its bytes have no canonical form.
        var good = await PostJsonAsync("""{"event_type":"new_store","store_id":"s-replayed","store_domain":"r.example"}""");
        await WaitForCatalogued(good);
        var now = DateTimeOffset.UtcNow;
        var key = $"s-legacy/store_create/{now:yyyy}/{now:MM}/{now:dd}/0123456789abcdef-{now.ToUnixTimeSeconds()}.json";
        var path = Path.Combine(_dataDirectory, PlatformNames.Buckets.RawAudit, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, """{"event_type":"new_store","store_id":"s-legacy","x":1,"x":2}""", Ct);

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/catalog/admin/replay?from={now.AddDays(-1):yyyy-MM-dd}&to={now.AddDays(1):yyyy-MM-dd}");
        request.Headers.Add("x-api-key", OpsKey);
        var response = await _client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var report = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(1, report.GetProperty("events_applied").GetInt32());
        var problem = Assert.Single(report.GetProperty("problems").EnumerateArray()).GetString()!;
        Assert.Contains(key, problem, StringComparison.Ordinal);
        Assert.Contains("duplicate_member", problem, StringComparison.Ordinal);
    }

    private async Task<string> PostAsync(string sample) => await PostJsonAsync(Samples.Bytes(sample).AsString());

    private async Task<string> PostJsonAsync(string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/supabase") { Content = new StringContent(json) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("x-api-key", WebhookKey);
        var response = await _client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var receipt = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        return receipt.GetProperty("event_id").GetString()!;
    }

    private async Task WaitForCatalogued(string eventId)
    {
        var registry = _factory.Services.GetRequiredService<EventRegistry>();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            var view = await registry.GetAsync(eventId, CancellationToken.None);
            if (view?.Stages.Any(s => s.Stage == Stages.Catalogued || s.Stage.StartsWith(Stages.DeadLettered, StringComparison.Ordinal)) == true)
            {
                Assert.DoesNotContain(view.Stages, s => s.Stage.StartsWith(Stages.DeadLettered, StringComparison.Ordinal));
                return;
            }

            await Task.Delay(20, Ct);
        }

        Assert.Fail($"event {eventId} was not catalogued within 15 s");
    }

    private async Task<HttpResponseMessage> SendOpsAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("x-api-key", OpsKey);
        return await _client.SendAsync(request, Ct);
    }

    private async Task<T> GetOpsAsync<T>(string path)
    {
        var response = await SendOpsAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<T>(Ct))!;
    }
}
