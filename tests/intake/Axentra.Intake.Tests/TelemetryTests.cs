using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Axentra.Contracts;
using Axentra.TestSupport;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Axentra.Intake.Tests;

/// <summary>
/// What an operator sees of one webhook in the standalone host: one trace from the request through the local queue
/// to the audit and catalog writes, log lines that name the event, and the metrics the dashboard and alerts read.
/// </summary>
[Collection(nameof(ExactMetrics))]
public sealed class TelemetryTests : IDisposable
{
    private const string WithoutStoreId = """{"event_type":"new_product","products":{"name":"Vitamin D3","product_id":"p-telemetry","product_variants":[{"price":19.99}]}}""";

    private readonly StandaloneApp _app = new();

    [Fact]
    public async Task One_trace_spans_the_request_the_delivery_to_audit_and_catalog_and_their_writes()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name.StartsWith("Axentra.", StringComparison.Ordinal) || source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TraceId == traceId)
                {
                    spans.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        using var client = _app.CreateClient();
        using var request = StandaloneApp.Webhook(WithoutStoreId);
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        string[] expected =
        [
            $"deliver {PlatformNames.Topics.WebhookEvents} to {PlatformNames.AppIds.Audit}",
            $"deliver {PlatformNames.Topics.WebhookEvents} to {PlatformNames.AppIds.Catalog}",
            $"publish {PlatformNames.Topics.WebhookEvents}",
            $"put_if_absent {PlatformNames.Buckets.RawAudit}",
            $"put {PlatformNames.Buckets.Processed}",
        ];
        await Eventually(() => expected.All(name => spans.Any(s => s.DisplayName == name)), TimeSpan.FromSeconds(15));

        var names = spans.Select(s => s.DisplayName).ToList();
        Assert.Contains(names, n => n.Contains(WebhookApiRoute, StringComparison.Ordinal)); // the server span of the request
        var eventId = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("event_id").GetString();
        var deliveries = spans.Where(s => s.DisplayName.StartsWith("deliver ", StringComparison.Ordinal)).ToList();
        Assert.All(deliveries, d => Assert.Equal(eventId, d.GetTagItem("axentra.event_id")));
        Assert.All(deliveries, d => Assert.Equal(ActivityKind.Consumer, d.Kind));
    }

    [Fact]
    public async Task Log_lines_of_a_processed_event_carry_its_event_id_and_store_id_in_their_scope_and_never_its_payload()
    {
        var lines = new RecordingLoggerProvider();
        // Without Ben's tables the catalog's validation misses are Debug lines; this test wants to see them too.
        using var app = _app.WithWebHostBuilder(builder => builder
            .UseSetting("Logging:LogLevel:Axentra.Catalog.Validation", "Debug")
            .ConfigureTestServices(services => services.AddSingleton<ILoggerProvider>(lines)));
        using var client = app.CreateClient();
        using var response = await client.SendAsync(StandaloneApp.Webhook(WithoutStoreId), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var receipt = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        var eventId = receipt.GetProperty("event_id").GetString();
        var storeId = receipt.GetProperty("store_id").GetString();

        // Intake warns that it generated the store id; the catalog warns that the store is known nowhere.
        await Eventually(() => lines.Lines.Any(l => l.Category.EndsWith(".ExistenceValidator", StringComparison.Ordinal)), TimeSpan.FromSeconds(15));
        var ofEvent = lines.Lines.Where(l => (l.Level >= LogLevel.Warning || l.Category.EndsWith(".ExistenceValidator", StringComparison.Ordinal))
            && l.Category.StartsWith("Axentra.", StringComparison.Ordinal)
            && !l.Category.EndsWith(".ValidationStartupReport", StringComparison.Ordinal)).ToList();
        Assert.Contains(ofEvent, l => l.Category.StartsWith("Axentra.Intake", StringComparison.Ordinal));
        Assert.Contains(ofEvent, l => l.Scope.GetValueOrDefault("subscriber") as string == PlatformNames.AppIds.Catalog);
        Assert.All(ofEvent, l =>
        {
            Assert.Equal(eventId, l.Scope.GetValueOrDefault("event_id"));
            Assert.Equal(storeId, l.Scope.GetValueOrDefault("store_id"));
            Assert.DoesNotContain("Vitamin", l.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task The_scrape_endpoint_exposes_the_pipeline_metrics_the_dashboard_and_alerts_use()
    {
        using var client = _app.CreateClient();
        using var response = await client.SendAsync(StandaloneApp.Webhook(WithoutStoreId), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var duplicate = await client.SendAsync(StandaloneApp.Webhook(WithoutStoreId), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, duplicate.StatusCode);
        using var malformed = await client.SendAsync(StandaloneApp.Webhook("{not json"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        using var unauthenticated = await client.SendAsync(StandaloneApp.Webhook("{}", apiKey: null), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);

        // Every series the chart's dashboard and alert rules read (charts/axentra), under the exporter's names.
        string[] series =
        [
            "axentra_webhooks_received_total",
            "axentra_webhooks_accepted_total",
            "axentra_webhooks_duplicates_total",
            "axentra_webhooks_webhook_id_reused_total",
            "axentra_webhooks_rejected_total",
            "axentra_webhooks_duration_milliseconds_bucket",
            "axentra_dedupe_claims_total",
            "axentra_state_duration_milliseconds_bucket",
            "axentra_pubsub_publish_duration_milliseconds_bucket",
            "axentra_binding_duration_milliseconds_bucket",
            "axentra_pubsub_deliveries_total",
            "axentra_pubsub_delivery_duration_milliseconds_bucket",
            "axentra_pubsub_delivery_lag_seconds_bucket",
            "axentra_pubsub_dead_letters_total",
            "axentra_pubsub_dead_letters_resolved_total",
            "axentra_queue_depth",
            "axentra_queue_oldest_age_seconds",
            "axentra_queue_dead_lettered",
            "axentra_audit_writes_total",
            "axentra_audit_conflicts_total",
            "axentra_catalog_events_total",
            "axentra_catalog_writes_total",
            "axentra_catalog_kb_refresh_total",
            "axentra_catalog_validation_misses_total",
        ];
        var scrape = new PrometheusScrape("");
        await Eventually(async () =>
        {
            scrape = new PrometheusScrape(await client.GetStringAsync("/metrics", TestContext.Current.CancellationToken));
            return series.All(s => scrape.Series(s).Count > 0)
                && scrape.Sum("axentra_pubsub_deliveries_total", ("subscriber", "catalog"), ("outcome", "success")) >= 1;
        }, TimeSpan.FromSeconds(15), () => string.Join(", ", series.Where(s => scrape.Series(s).Count == 0)));

        // Every request is counted once, by what it got: received = accepted + duplicates + rejected.
        Assert.Equal(4, scrape.Sum("axentra_webhooks_received_total"));
        Assert.Equal(1, scrape.Sum("axentra_webhooks_accepted_total", ("event_type", "product_create")));
        Assert.Equal(1, scrape.Sum("axentra_webhooks_duplicates_total"));
        Assert.Equal(1, scrape.Sum("axentra_webhooks_rejected_total", ("reason", "malformed_json")));
        Assert.Equal(1, scrape.Sum("axentra_webhooks_rejected_total", ("reason", "unauthenticated")));
        Assert.Equal(4, scrape.Sum("axentra_webhooks_duration_milliseconds_count"));
        Assert.Equal(2, scrape.Sum("axentra_webhooks_duration_milliseconds_bucket", ("le", "+Inf"), ("status", "202")) + scrape.Sum("axentra_webhooks_duration_milliseconds_bucket", ("le", "+Inf"), ("status", "200")));
        Assert.NotNull(scrape.Sum("axentra_webhooks_duration_milliseconds_bucket", ("le", "20"))); // the target's bound is a bucket bound

        // The alarms' series exist at 0 before anything goes wrong, so the first increment is an increase.
        foreach (var subscriber in PlatformNames.AppIds.WebhookEventSubscribers)
        {
            Assert.Equal(0, scrape.Sum("axentra_pubsub_dead_letters_total", ("subscriber", subscriber), ("reason", "exhausted")));
            Assert.Equal(0, scrape.Sum("axentra_pubsub_dead_letters_total", ("subscriber", subscriber), ("reason", "dropped")));
        }

        Assert.Equal(0, scrape.Sum("axentra_audit_conflicts_total", ("kind", "payload")));

        // The delivered event's age: seconds at most here, so it lands at the low end of the lag histogram.
        Assert.Equal(1, scrape.Sum("axentra_pubsub_delivery_lag_seconds_count", ("subscriber", "catalog")));
        Assert.Equal(1, scrape.Sum("axentra_pubsub_delivery_lag_seconds_bucket", ("subscriber", "catalog"), ("le", "10")));
        Assert.Equal(1, scrape.Sum("axentra_catalog_writes_total", ("catalog", "master"), ("operation", "put")));
        Assert.True(scrape.Sum("axentra_catalog_validation_misses_total", ("entity", "store")) >= 1, "the generated store is known nowhere");

        Assert.DoesNotContain("p-telemetry", scrape.Text, StringComparison.Ordinal); // ids never become labels
    }

    [Fact]
    public async Task A_503_for_a_backend_that_is_down_is_counted_as_rejected_and_timed_like_every_other_answer()
    {
        using var client = _app.CreateClient();
        _app.Publisher.FailNext(int.MaxValue);
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.SendAsync(StandaloneApp.Webhook($$"""{"store_id":"down","n":{{i}}}"""), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        var scrape = new PrometheusScrape(await client.GetStringAsync("/metrics", TestContext.Current.CancellationToken));
        Assert.Equal(3, scrape.Sum("axentra_webhooks_received_total"));
        Assert.Equal(3, scrape.Sum("axentra_webhooks_rejected_total", ("reason", "backend_unavailable")));
        Assert.Equal(3, scrape.Sum("axentra_webhooks_duration_milliseconds_count", ("status", "503")));
        Assert.Null(scrape.Sum("axentra_webhooks_accepted_total"));
    }

    [Fact]
    public async Task A_webhook_id_reused_for_another_payload_is_counted_and_logged_without_the_payload()
    {
        var lines = new RecordingLoggerProvider();
        using var app = _app.WithWebHostBuilder(builder => builder.ConfigureTestServices(services => services.AddSingleton<ILoggerProvider>(lines)));
        using var client = app.CreateClient();
        async Task<JsonElement> PostAsync(string body, HttpStatusCode expected)
        {
            using var request = StandaloneApp.Webhook(body);
            request.Headers.Add("webhook-id", "msg_reused");
            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(expected, response.StatusCode);
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.Clone();
        }

        var original = await PostAsync("""{"event_type":"new_store","store_id":"s-reuse","store_name":"Original name"}""", HttpStatusCode.Accepted);
        await PostAsync("""{"store_id":"s-reuse","event_type":"new_store","store_name":"Original name"}""", HttpStatusCode.OK); // re-serialised: a true redelivery
        var reused = await PostAsync("""{"event_type":"updated_store","store_id":"s-reuse","store_name":"Secret new name"}""", HttpStatusCode.OK);

        Assert.Equal(original.GetProperty("event_id").GetString(), reused.GetProperty("event_id").GetString());
        var scrape = new PrometheusScrape(await client.GetStringAsync("/metrics", TestContext.Current.CancellationToken));
        Assert.Equal(2, scrape.Sum("axentra_webhooks_duplicates_total"));
        Assert.Equal(1, scrape.Sum("axentra_webhooks_webhook_id_reused_total"));
        var line = Assert.Single(lines.Lines, l => l.Message.Contains("was already used by event", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains("webhook-id:msg_reused", line.Message, StringComparison.Ordinal);
        Assert.Contains(original.GetProperty("event_id").GetString()!, line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(lines.Lines, l => l.Message.Contains("Secret new name", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_webhook_id_reused_warning_names_the_event_in_its_scope_like_every_line_about_an_event()
    {
        var lines = new RecordingLoggerProvider();
        using var app = _app.WithWebHostBuilder(builder => builder.ConfigureTestServices(services => services.AddSingleton<ILoggerProvider>(lines)));
        using var client = app.CreateClient();
        async Task<string> PostAsync(string body)
        {
            using var request = StandaloneApp.Webhook(body);
            request.Headers.Add("webhook-id", "msg_reused_scope");
            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("event_id").GetString()!;
        }

        var eventId = await PostAsync("""{"event_type":"new_store","store_id":"s-reuse-scope","store_name":"A"}""");
        await PostAsync("""{"event_type":"updated_store","store_id":"s-reuse-scope","store_name":"B"}""");

        var line = Assert.Single(lines.Lines, l => l.Message.Contains("was already used by event", StringComparison.Ordinal));
        Assert.Equal("s-reuse-scope", line.Scope.GetValueOrDefault("store_id"));
        Assert.Equal(eventId, line.Scope.GetValueOrDefault("event_id")); // fails: the scope has store_id and event_type only
    }

    [Fact]
    public async Task The_dead_letter_line_of_the_standalone_queue_carries_the_webhooks_trace_id()
    {
        using var failing = new StandaloneApp(new Dictionary<string, string?>
        {
            ["Standalone:Queue:MaxAttempts"] = "2",
            ["Standalone:Queue:InitialBackoff"] = "00:00:00.05",
            ["Standalone:Queue:MaxBackoff"] = "00:00:00.1",
        });
        var lines = new RecordingLoggerProvider();
        using var app = failing.WithWebHostBuilder(builder => builder.ConfigureTestServices(services => services.AddSingleton<ILoggerProvider>(lines)));
        using var client = app.CreateClient();
        // The raw-audit bucket becomes a file: every audit write fails as unavailable and the message is dead-lettered.
        var bucket = Path.Combine(failing.DataDirectory, PlatformNames.Buckets.RawAudit);
        if (Directory.Exists(bucket))
        {
            Directory.Delete(bucket, recursive: true);
        }

        File.WriteAllText(bucket, "not a bucket");
        var traceId = ActivityTraceId.CreateRandom();
        using var request = StandaloneApp.Webhook("""{"event_type":"new_store","store_id":"s-dead-trace"}""");
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        await Eventually(() => lines.Lines.Any(l => l.Message.Contains("dead-lettered for audit", StringComparison.Ordinal)), TimeSpan.FromSeconds(15));
        var line = lines.Lines.First(l => l.Message.Contains("dead-lettered for audit", StringComparison.Ordinal));
        Assert.Equal("s-dead-trace", line.Scope.GetValueOrDefault("store_id"));
        Assert.Equal(traceId.ToString(), line.Scope.GetValueOrDefault("TraceId") as string); // fails: logged outside any span
    }

    [Fact]
    public async Task The_log_line_of_a_503_for_a_backend_that_is_down_names_the_webhooks_store()
    {
        var lines = new RecordingLoggerProvider();
        using var app = _app.WithWebHostBuilder(builder => builder.ConfigureTestServices(services => services.AddSingleton<ILoggerProvider>(lines)));
        using var client = app.CreateClient();
        _app.Publisher.FailNext(int.MaxValue);

        using var response = await client.SendAsync(StandaloneApp.Webhook("""{"store_id":"s-down-log","event_type":"new_store"}"""), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var line = Assert.Single(lines.Lines, l => l.Category.EndsWith(".BackendUnavailableExceptionHandler", StringComparison.Ordinal));
        Assert.Equal("s-down-log", line.Scope.GetValueOrDefault("store_id")); // logged after the request's own scope ended
        Assert.Equal("store_create", line.Scope.GetValueOrDefault("event_type"));
    }

    private const string WebhookApiRoute = "/webhooks/supabase";

    private static Task Eventually(Func<bool> condition, TimeSpan timeout) => Eventually(() => Task.FromResult(condition()), timeout, () => "");

    private static async Task Eventually(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"condition not met within {timeout}: {describe()}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    public void Dispose() => _app.Dispose();

    private sealed record LogLine(string Category, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Scope);

    /// <summary>Keeps every log line with the properties of the scopes it was logged in.</summary>
    private sealed class RecordingLoggerProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public ConcurrentQueue<LogLine> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Recorder(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Recorder(RecordingLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => owner._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scope = new Dictionary<string, object?>(StringComparer.Ordinal);
                owner._scopes.ForEachScope((value, into) =>
                {
                    if (value is IEnumerable<KeyValuePair<string, object?>> properties)
                    {
                        foreach (var (key, item) in properties)
                        {
                            into[key] = item;
                        }
                    }
                }, scope);
                owner.Lines.Enqueue(new LogLine(category, logLevel, formatter(state, exception), scope));
            }
        }
    }
}
