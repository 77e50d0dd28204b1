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
/// The standalone host in-process (its real Program, embedded adapters, a temporary data directory): the shared
/// samples posted to the webhook endpoint end up, byte for byte, at the keys the 202 answers named; and the trail's
/// edges: a store id that looks like a temporary file, the access log line of a read that failed, a listing's last page.
/// </summary>
public sealed class StandaloneAuditTests : IAsyncLifetime
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
                services.Decorate<IObjectBuckets>((_, inner) => new FailingReadBuckets(inner, _failingReads));
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

    public static TheoryData<string> Samples => [.. Directory.GetFiles(SamplesDirectory(), "*.json").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Samples))]
    public async Task Every_sample_is_audited_byte_for_byte_at_the_key_the_202_named(string sample)
    {
        var body = await File.ReadAllBytesAsync(Path.Combine(SamplesDirectory(), sample), TestContext.Current.CancellationToken);

        var receipt = await PostWebhookAsync(body);

        var eventId = receipt.GetProperty("event_id").GetString()!;
        var s3Key = receipt.GetProperty("s3_key").GetString()!;
        var storeId = receipt.GetProperty("store_id").GetString()!;
        var eventType = receipt.GetProperty("event_type").GetString()!;
        Assert.Matches($"^{storeId}/{eventType}/\\d{{4}}/\\d{{2}}/\\d{{2}}/{eventId}\\.json$", s3Key);

        var audited = await WaitForAuditedAsync(eventId);
        Assert.Equal(s3Key, audited.S3Key);
        var file = Path.Combine(_data.Path, PlatformNames.Buckets.RawAudit, s3Key);
        Assert.Equal(body, await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken));

        var metadataFile = Path.Combine(_data.Path, PlatformNames.Buckets.RawAudit, StorageKeys.RawAuditMetadata(s3Key));
        Assert.Equal(eventType == EventTypes.StoreCreate, File.Exists(metadataFile));
        if (eventType == EventTypes.StoreCreate)
        {
            using var metadata = JsonDocument.Parse(await File.ReadAllBytesAsync(metadataFile, TestContext.Current.CancellationToken));
            var attributes = metadata.RootElement.GetProperty("metadataAttributes");
            using var payload = JsonDocument.Parse(body);
            Assert.Equal(payload.RootElement.GetProperty("store_domain").GetString(), attributes.GetProperty("store").GetString());
            Assert.Equal(storeId, attributes.GetProperty("store_id").GetString());
            Assert.False(attributes.TryGetProperty("product_id", out _));
        }

        // The ops API serves the same bytes, to an operator only.
        using var read = await GetAsync($"/audit/events/{eventId}", OpsKey);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(body, await read.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_redelivered_webhook_leaves_one_audit_object()
    {
        var body = await File.ReadAllBytesAsync(Path.Combine(SamplesDirectory(), "new_store.json"), TestContext.Current.CancellationToken);
        var receipt = await PostWebhookAsync(body);
        await WaitForAuditedAsync(receipt.GetProperty("event_id").GetString()!);

        using (var again = await PostAsync(body))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        var folder = Path.GetDirectoryName(Path.Combine(_data.Path, PlatformNames.Buckets.RawAudit, receipt.GetProperty("s3_key").GetString()!))!;
        Assert.Equal(2, Directory.GetFiles(folder).Length); // the payload and its metadata file
    }

    [Fact]
    public async Task The_audit_routes_need_an_ops_credential()
    {
        var receipt = await PostWebhookAsync("""{"event_type":"new_product","products":{"product_id":"p-1","store_id":"s-1"}}"""u8.ToArray());
        var eventId = receipt.GetProperty("event_id").GetString()!;
        await WaitForAuditedAsync(eventId);

        foreach (var key in new string?[] { null, WebhookKey, "wrong" })
        {
            using var refused = await GetAsync($"/audit/events/{eventId}", key);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        Assert.Equal(eventId, await SingleListedEventAsync("/audit/stores/s-1/events/product_create"));
    }

    [Fact]
    public async Task An_audited_event_of_a_store_whose_id_contains_dot_tmp_dash_is_listed()
    {
        var receipt = await PostWebhookAsync("""{"event_type":"new_product","products":{"product_id":"p-1","store_id":"shop.tmp-east"}}"""u8.ToArray());
        var eventId = receipt.GetProperty("event_id").GetString()!;
        await WaitForAuditedAsync(eventId);
        Assert.True(File.Exists(Path.Combine(_data.Path, PlatformNames.Buckets.RawAudit, receipt.GetProperty("s3_key").GetString()!)));

        Assert.Equal(eventId, await SingleListedEventAsync("/audit/stores/shop.tmp-east/events/product_create"));
    }

    /// <summary>
    /// A read the exception handler answered 503 (bucket unreadable) is logged as a 503: the line used to be written
    /// before the handler (outside the ops edge) set the status, and recorded 200, a read that never happened.
    /// </summary>
    [Fact]
    public async Task The_access_log_records_the_status_the_operator_actually_got()
    {
        var receipt = await PostWebhookAsync("""{"event_type":"new_product","products":{"product_id":"p-2","store_id":"s-2"}}"""u8.ToArray());
        var eventId = receipt.GetProperty("event_id").GetString()!;
        await WaitForAuditedAsync(eventId);
        _failingReads.On = true;

        using var response = await GetAsync($"/audit/events/{eventId}", OpsKey);

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

        using var listing = await GetAsync("/audit/stores/s-3/events/product_create?page_size=2", OpsKey);
        using var page = JsonDocument.Parse(await listing.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(2, page.RootElement.GetProperty("events").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, page.RootElement.GetProperty("continuation_token").ValueKind);
    }

    /// <summary>The one event an ops listing returns (an operator's key), by its id.</summary>
    private async Task<string?> SingleListedEventAsync(string url)
    {
        using var listing = await GetAsync(url, OpsKey);
        Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
        using var page = JsonDocument.Parse(await listing.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return Assert.Single(page.RootElement.GetProperty("events").EnumerateArray()).GetProperty("event_id").GetString();
    }

    private async Task<JsonElement> PostWebhookAsync(byte[] body)
    {
        using var response = await PostAsync(body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.Clone();
    }

    private async Task<HttpResponseMessage> PostAsync(byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/supabase") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add("x-api-key", WebhookKey);
        return await _client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private async Task<HttpResponseMessage> GetAsync(string url, string? apiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (apiKey is not null)
        {
            request.Headers.Add("x-api-key", apiKey);
        }

        return await _client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private async Task<StageRecord> WaitForAuditedAsync(string eventId)
    {
        var registry = _factory.Services.GetRequiredService<EventRegistry>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var view = await registry.GetAsync(eventId, TestContext.Current.CancellationToken);
            if (view?.Stages.FirstOrDefault(s => s.Stage == Stages.Audited) is { } audited)
            {
                return audited;
            }

            Assert.True(DateTime.UtcNow < deadline, $"event {eventId} was not audited in time");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    private static string SamplesDirectory() => Axentra.TestSupport.RepositoryRoot.Samples;

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
