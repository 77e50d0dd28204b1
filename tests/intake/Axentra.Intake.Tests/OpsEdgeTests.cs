using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Axentra.BuildingBlocks.State;
using Axentra.Classification;
using Axentra.Contracts;
using Axentra.Intake.Registration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Axentra.Intake.Tests;

/// <summary>The ops edge: one credential check, separate from the senders', an access log, event look-up.</summary>
public sealed class OpsEdgeTests : IDisposable
{
    private readonly StandaloneApp _app = new(new() { ["Logging:LogLevel:Default"] = "Debug" });
    private readonly CapturingLoggerProvider _logs = new();
    private readonly WebApplicationFactory<Standalone.Program> _host;
    private readonly HttpClient _client;

    public OpsEdgeTests()
    {
        _host = _app.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<ILoggerProvider>(_logs)));
        _client = _host.CreateClient();
    }

    public void Dispose() => _app.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<HttpResponseMessage> Ops(string path, string? key = StandaloneApp.OpsKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add("x-api-key", key);
        }

        return _client.SendAsync(request, Ct);
    }

    [Fact]
    public async Task An_event_is_looked_up_by_id_and_by_payload_hash_with_its_stages_and_duplicate_count()
    {
        const string body = """{"event_type":"new_store","store_id":"s-ops","store_domain":"ops.example"}""";
        var receipt = await (await _client.SendAsync(StandaloneApp.Webhook(body), Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var eventId = receipt.GetProperty("event_id").GetString()!;
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(StandaloneApp.Webhook(body), Ct)).StatusCode);
        }

        JsonElement details = default;
        for (var attempt = 0; attempt < 50; attempt++)
        {
            details = await (await Ops($"/events/{eventId}")).Content.ReadFromJsonAsync<JsonElement>(Ct);
            if (details.GetProperty("duplicate_count").GetInt64() == 3)
            {
                break;
            }

            await Task.Delay(100, Ct);
        }

        Assert.Equal(3, details.GetProperty("duplicate_count").GetInt64());
        Assert.Equal(eventId, details.GetProperty("event_id").GetString());
        Assert.Equal("store_create", details.GetProperty("event_type").GetString());
        Assert.Equal(receipt.GetProperty("s3_key").GetString(), details.GetProperty("s3_key").GetString());
        Assert.Equal("received", details.GetProperty("stages")[0].GetProperty("stage").GetString());

        var byHash = await Ops($"/events?payload_hash={receipt.GetProperty("payload_hash").GetString()}");
        Assert.Equal(HttpStatusCode.OK, byHash.StatusCode);
        Assert.Equal(eventId, (await byHash.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("event_id").GetString());

        // An operator reads this with curl: the timestamp as written, not "…\u002B00:00" (PlatformJson).
        var text = await (await Ops($"/events/{eventId}")).Content.ReadAsStringAsync(Ct);
        Assert.EndsWith("+00:00", details.GetProperty("processing_timestamp").GetString(), StringComparison.Ordinal);
        Assert.Contains($"\"processing_timestamp\":\"{details.GetProperty("processing_timestamp").GetString()}\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_webhook_without_a_webhook_id_is_found_by_its_payload_hash_through_its_claim_alone()
    {
        var (eventId, payloadHash) = await PostAsync("""{"event_type":"new_store","store_id":"s-hash-claim"}""");

        Assert.Null(await State.GetAsync(RegistryKeys.PayloadHash(payloadHash), Ct));
        Assert.NotNull(await State.GetAsync(DedupeClaim.KeyOf(WebhookClassifier.PayloadHashDedupeKey(payloadHash)), Ct));
        Assert.Equal(eventId, await FindByHashAsync(payloadHash));
    }

    [Fact]
    public async Task A_webhook_with_a_webhook_id_is_found_by_its_payload_hash_through_its_index_entry()
    {
        var (eventId, payloadHash) = await PostAsync("""{"event_type":"new_store","store_id":"s-hash-index"}""", webhookId: "msg_hash_index");

        var index = await State.GetJsonAsync(RegistryKeys.PayloadHash(payloadHash), ContractsJsonContext.Default.PayloadHashIndex, Ct);
        Assert.Equal(eventId, index?.Value.EventId);
        Assert.Null(await State.GetAsync(DedupeClaim.KeyOf(WebhookClassifier.PayloadHashDedupeKey(payloadHash)), Ct));
        Assert.Equal(eventId, await FindByHashAsync(payloadHash));
    }

    [Fact]
    public async Task A_payload_hash_answers_the_later_of_its_claim_and_an_index_entry_written_by_an_earlier_version()
    {
        const string body = """{"event_type":"new_store","store_id":"s-hash-both"}""";
        var payloadHash = WebhookClassifier.Classify(System.Text.Encoding.UTF8.GetBytes(body), webhookId: null).Webhook!.PayloadHash;
        var now = DateTimeOffset.UtcNow;
        await SeedIndexedEventAsync(payloadHash, "0000000000000001-1", now.AddDays(-3));

        var (eventId, _) = await PostAsync(body);
        Assert.Equal(eventId, await FindByHashAsync(payloadHash)); // the claim's event is the later one

        await SeedIndexedEventAsync(payloadHash, "0000000000000002-2", now.AddMinutes(5));
        Assert.Equal("0000000000000002-2", await FindByHashAsync(payloadHash)); // now the index entry's is
    }

    private IStateStore State => _host.Services.GetRequiredService<IStateStore>();

    private async Task<(string EventId, string PayloadHash)> PostAsync(string body, string? webhookId = null)
    {
        var request = StandaloneApp.Webhook(body);
        if (webhookId is not null)
        {
            request.Headers.Add("webhook-id", webhookId);
        }

        var response = await _client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var receipt = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        return (receipt.GetProperty("event_id").GetString()!, receipt.GetProperty("payload_hash").GetString()!);
    }

    private async Task<string?> FindByHashAsync(string payloadHash)
    {
        var response = await Ops($"/events?payload_hash={payloadHash}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("event_id").GetString();
    }

    /// <summary>An event registered with a <c>payload-hash:</c> index entry, as a webhook-id delivery (or any delivery before the claim served as the index) leaves it.</summary>
    private async Task SeedIndexedEventAsync(string payloadHash, string eventId, DateTimeOffset receivedAt)
    {
        var record = new RegistryRecord
        {
            EventId = eventId,
            PayloadHash = payloadHash,
            ProcessingTimestamp = receivedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            EventType = "store_create",
            StoreId = "s-hash-both",
            S3Key = $"s-hash-both/store_create/{eventId}.json",
            Status = RegistryStatus.Accepted,
            Ttl = (receivedAt + RegistryKeys.Retention).ToUnixTimeSeconds(),
            DedupeKey = "webhook-id:msg_seeded",
        };
        await State.SaveJsonAsync(RegistryKeys.Event(eventId), record, ContractsJsonContext.Default.RegistryRecord, RegistryKeys.Retention, Ct);
        await State.SaveJsonAsync(RegistryKeys.PayloadHash(payloadHash), new PayloadHashIndex(payloadHash, eventId), ContractsJsonContext.Default.PayloadHashIndex, RegistryKeys.Retention, Ct);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong")]
    [InlineData(StandaloneApp.ApiKey)]
    public async Task Ops_routes_refuse_anything_but_an_ops_key(string? key)
    {
        foreach (var path in new[] { "/events/abc-1", "/audit/anything", "/catalog/anything", "/admin/dead-letters" })
        {
            var response = await Ops(path, key);
            await WebhookEndpointTests.AssertProblem(response, HttpStatusCode.Unauthorized);
            Assert.Equal("ApiKey header=\"x-api-key\"", response.Headers.WwwAuthenticate.ToString());
        }
    }

    [Fact]
    public async Task Unknown_and_malformed_look_ups_are_404_and_400()
    {
        await WebhookEndpointTests.AssertProblem(await Ops("/events/0000000000000000-1"), HttpStatusCode.NotFound);
        await WebhookEndpointTests.AssertProblem(await Ops("/events/..%2F..%2Fetc"), HttpStatusCode.BadRequest);
        await WebhookEndpointTests.AssertProblem(await Ops("/events?payload_hash=xyz"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Every_ops_request_is_access_logged_with_its_credential_and_never_the_key()
    {
        await Ops("/events/0000000000000000-1");
        await Ops("/events/0000000000000000-2", "wrong");
        // Each line is written once its response is complete (so it has the status the caller got): wait for both.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (_logs.Lines.Count(l => l.Category == "Axentra.OpsAccess") < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
        }

        var lines = _logs.Lines.Where(l => l.Category == "Axentra.OpsAccess").Select(l => l.Message).ToList();
        Assert.Contains(lines, l => l.Contains("ops-key:0", StringComparison.Ordinal) && l.Contains("/events/0000000000000000-1", StringComparison.Ordinal) && l.Contains("404", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("anonymous", StringComparison.Ordinal) && l.Contains("401", StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Lines, l => l.Message.Contains(StandaloneApp.OpsKey, StringComparison.Ordinal) || l.Message.Contains("wrong", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Logs_never_carry_payload_bodies_or_credentials()
    {
        const string marker = "PHI-MARKER-never-log-me";
        await _client.SendAsync(StandaloneApp.Webhook($$"""{"store_id":"s-log","note":"{{marker}}"}"""), Ct);
        await _client.SendAsync(StandaloneApp.Webhook("""{"store_id":"../x"}"""), Ct);
        Assert.DoesNotContain(_logs.Lines, l => l.Message.Contains(marker, StringComparison.Ordinal) || l.Message.Contains(StandaloneApp.ApiKey, StringComparison.Ordinal));
    }
}

public sealed class OpsEdgeProxyTests
{
    [Fact]
    public async Task The_distributed_edge_forwards_audit_and_catalog_routes_through_dapr_invocation_without_the_credential()
    {
        var ct = TestContext.Current.CancellationToken;
        var seen = new ConcurrentQueue<(string Path, string AppId, bool HadKey)>();
        var sidecar = WebApplication.CreateSlimBuilder();
        sidecar.WebHost.UseUrls("http://127.0.0.1:0");
        await using var fake = sidecar.Build();
        fake.Run(async context =>
        {
            seen.Enqueue((context.Request.Path + context.Request.QueryString, context.Request.Headers["dapr-app-id"].ToString(), context.Request.Headers.ContainsKey("x-api-key")));
            await context.Response.WriteAsJsonAsync(new { ok = true }, ct);
        });
        await fake.StartAsync(ct);
        var port = new Uri(fake.Urls.Single()).Port;

        using var intake = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b
            .UseSetting("Intake:Auth:ApiKeys:0", "sender")
            .UseSetting("Ops:Auth:ApiKeys:0", "operator")
            .UseSetting("DAPR_HTTP_PORT", port.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .UseSetting("DAPR_HTTP_ENDPOINT", "")); // an endpoint in the environment would win over the port
        using var client = intake.CreateClient();
        foreach (var path in new[] { "/audit/events/e1?x=1", "/catalog/stores/s1/products" })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("x-api-key", "operator");
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request, ct)).StatusCode);
        }

        var refused = new HttpRequestMessage(HttpMethod.Get, "/audit/events/e1");
        refused.Headers.Add("x-api-key", "sender");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(refused, ct)).StatusCode);

        Assert.Equal([("/audit/events/e1?x=1", "audit", false), ("/catalog/stores/s1/products", "catalog", false)], seen.ToArray());
        await fake.StopAsync(ct);
    }
}

/// <summary>Keeps every log line written, to assert on what is (and is not) logged.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(string Category, string Message)> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Lines.Enqueue((category, formatter(state, exception) + " " + exception));
    }
}
