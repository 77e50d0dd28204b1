using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Axentra.Audit.Tests.Support;
using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.Bindings;
using Axentra.BuildingBlocks.Registry;
using Axentra.Contracts;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Axentra.Audit.Tests.Standalone;

/// <summary>
/// Edge cases of the audit trail on the standalone host (its real Program, embedded adapters): a store id that looks
/// like a temporary file, an access log line for a read that failed, and the last page of a listing.
/// </summary>
public sealed class StandaloneAuditEdgeTests : IAsyncLifetime
{
    private const string WebhookKey = "axk_webhook_test_0123456789";
    private const string OpsKey = "axk_ops_test_9876543210";
    private readonly TempDirectory _data = new();
    private readonly CapturingLogs _logs = new();
    private readonly FailingReads _failingReads = new();
    private WebApplicationFactory<Axentra.Standalone.Program> _factory = null!;
    private HttpClient _client = null!;

    public ValueTask InitializeAsync()
    {
        _factory = new WebApplicationFactory<Axentra.Standalone.Program>().WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Standalone:DataDir", _data.Path);
            builder.UseSetting("Intake:Auth:ApiKeys:0", WebhookKey);
            builder.UseSetting("Ops:Auth:ApiKeys:0", OpsKey);
            builder.ConfigureTestServices(services =>
            {
                services.AddSingleton<ILoggerProvider>(_logs);
                services.AddSingleton<IObjectBuckets>(_ => new FailingReadBuckets(new Axentra.BuildingBlocks.Embedded.FileObjectBuckets(_data.Path, fsync: false), _failingReads));
            });
        });
        _client = _factory.CreateClient();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        _data.Dispose();
    }

    /// <summary>
    /// A store id containing ".tmp-" is a safe key segment (accepted by intake, audited), but FileObjectBucket.ListAsync
    /// drops every path containing ".tmp-" (its temporary-file marker), so the store's audit trail is invisible to the
    /// ops listing (and to the catalog replay, which lists the same way).
    /// </summary>
    [Fact]
    public async Task An_audited_event_of_a_store_whose_id_contains_dot_tmp_dash_is_listed()
    {
        var receipt = await PostWebhookAsync("""{"event_type":"new_product","products":{"product_id":"p-1","store_id":"shop.tmp-east"}}"""u8.ToArray());
        var eventId = receipt.GetProperty("event_id").GetString()!;
        await WaitForAuditedAsync(eventId);
        Assert.True(File.Exists(Path.Combine(_data.Path, PlatformNames.Buckets.RawAudit, receipt.GetProperty("s3_key").GetString()!)));

        using var listing = await GetAsync("/audit/stores/shop.tmp-east/events/product_create");
        Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
        using var page = JsonDocument.Parse(await listing.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(eventId, Assert.Single(page.RootElement.GetProperty("events").EnumerateArray()).GetProperty("event_id").GetString());
    }

    /// <summary>
    /// The ops access log line is written in OpsEdge's finally, inside UseExceptionHandler: when the audit route throws
    /// (bucket unreadable), the line records the response's default 200 while the operator got a 503.
    /// </summary>
    [Fact]
    public async Task The_access_log_records_the_status_the_operator_actually_got()
    {
        var receipt = await PostWebhookAsync("""{"event_type":"new_product","products":{"product_id":"p-2","store_id":"s-2"}}"""u8.ToArray());
        var eventId = receipt.GetProperty("event_id").GetString()!;
        await WaitForAuditedAsync(eventId);
        _failingReads.On = true;

        using var response = await GetAsync($"/audit/events/{eventId}");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        // Written once the response is complete (OpsEdge), so it may follow the response by a moment.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!_logs.Lines.Any(l => l.Category == "Axentra.OpsAccess" && l.Message.Contains($"/audit/events/{eventId}", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        var line = Assert.Single(_logs.Lines, l => l.Category == "Axentra.OpsAccess" && l.Message.Contains($"/audit/events/{eventId}", StringComparison.Ordinal)).Message;
        Assert.EndsWith("-> 503", line, StringComparison.Ordinal);
    }

    /// <summary>docs/audit.md: "continuation_token null on the last page". A range holding exactly page_size events gets a token and then an empty page.</summary>
    [Fact]
    public async Task A_last_page_that_is_exactly_full_has_no_continuation_token()
    {
        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var receipt = await PostWebhookAsync(System.Text.Encoding.UTF8.GetBytes($$$"""{"event_type":"new_product","products":{"product_id":"p-{{{i}}}","store_id":"s-3"}}"""));
            ids.Add(receipt.GetProperty("event_id").GetString()!);
        }

        foreach (var id in ids)
        {
            await WaitForAuditedAsync(id);
        }

        using var listing = await GetAsync("/audit/stores/s-3/events/product_create?page_size=2");
        using var page = JsonDocument.Parse(await listing.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(2, page.RootElement.GetProperty("events").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, page.RootElement.GetProperty("continuation_token").ValueKind);
    }

    private async Task<JsonElement> PostWebhookAsync(byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/supabase") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("x-api-key", WebhookKey);
        using var response = await _client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.Clone();
    }

    private async Task<HttpResponseMessage> GetAsync(string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("x-api-key", OpsKey);
        return await _client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private async Task WaitForAuditedAsync(string eventId)
    {
        var registry = _factory.Services.GetRequiredService<EventRegistry>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while ((await registry.GetAsync(eventId, TestContext.Current.CancellationToken))?.Stages.Any(s => s.Stage == Stages.Audited) != true)
        {
            Assert.True(DateTime.UtcNow < deadline, $"event {eventId} was not audited in time");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    private sealed class FailingReads
    {
        public volatile bool On;
    }

    private sealed class FailingReadBuckets(IObjectBuckets inner, FailingReads failing) : IObjectBuckets
    {
        public IObjectBucket Open(string bucketName) => new Bucket(inner.Open(bucketName), failing);

        private sealed class Bucket(IObjectBucket inner, FailingReads failing) : IObjectBucket
        {
            public string Name => inner.Name;

            public ValueTask PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) => inner.PutAsync(key, content, cancellationToken);

            public ValueTask<byte[]?> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) => inner.PutIfAbsentAsync(key, content, cancellationToken);

            public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken) =>
                failing.On ? throw new BackendUnavailableException($"bucket {Name}", "disk error") : inner.GetAsync(key, cancellationToken);

            public ValueTask DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);

            public ValueTask<ObjectListPage> ListAsync(string prefix, string? continuationToken, int pageSize, CancellationToken cancellationToken) =>
                inner.ListAsync(prefix, continuationToken, pageSize, cancellationToken);
        }
    }

    private sealed class CapturingLogs : ILoggerProvider
    {
        public ConcurrentQueue<(string Category, string Message)> Queue { get; } = new();

        public IEnumerable<(string Category, string Message)> Lines => Queue.ToArray();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Queue);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<(string, string)> queue) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                queue.Enqueue((category, formatter(state, exception)));
        }
    }
}
