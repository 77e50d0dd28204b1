using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.Dapr;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.Registry;
using Axentra.BuildingBlocks.State;
using Axentra.Contracts;
using Axentra.Intake.DeadLetters;
using Axentra.TestSupport;
using Axentra.TestSupport.Dapr;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Axentra.Intake.Tests;

/// <summary>
/// Dead letters in the distributed mode: the real intake (Dapr adapters) receives what a subscriber's sidecar sends to
/// its dead-letter topic, keeps it in the registry on the sidecar stand-in, lists it on the ops API and redrives it
/// through the stand-in's service invocation to a subscriber app that serves the real subscription endpoint.
/// </summary>
[Collection(nameof(ExactMetrics))]
public sealed class DaprDeadLetterTests : IAsyncLifetime
{
    private const string ApiKey = "dapr-dl-sender-key";
    private const string OpsKey = "dapr-dl-ops-key";
    private readonly Dictionary<string, ScriptedSubscriber> _subscribers = [];
    private readonly List<WebApplication> _apps = [];
    private DaprIntake _intake = null!;

    private DaprSidecarStandIn Sidecar => _intake.Sidecar;

    private HttpClient Client => _intake.Client;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _intake = await StartIntakeAsync();
        foreach (var app in PlatformNames.AppIds.WebhookEventSubscribers)
        {
            _subscribers[app] = new ScriptedSubscriber(app);
            Sidecar.AddApp(app, await StartSubscriberAppAsync(_subscribers[app]));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _intake.DisposeAsync();
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_dead_letter_is_listed_with_its_reason_attempts_and_event_and_the_event_shows_it()
    {
        var envelope = await AcceptAsync("store-dl-1");
        var messageId = Guid.NewGuid().ToString();
        await DeadLetterAsync(PlatformNames.AppIds.Catalog, messageId, envelope);

        var letter = Assert.Single(await ListAsync());
        Assert.Equal(PlatformNames.AppIds.Catalog, (string)letter["subscriber"]!);
        Assert.Equal(messageId, (string)letter["message_id"]!);
        Assert.Equal(PlatformNames.Topics.WebhookEvents, (string)letter["topic"]!);
        Assert.Equal(envelope.EventId, (string)letter["event_id"]!);
        Assert.Equal(envelope.EventType, (string)letter["event_type"]!);
        Assert.Equal("store-dl-1", (string)letter["store_id"]!);
        Assert.Equal(1, (int)letter["attempts"]!);
        Assert.Equal(RegistryDeadLetters.RetryBudgetSpent, (string)letter["reason"]!);
        Assert.NotNull(letter["dead_lettered_at"]);

        var details = await GetJsonAsync($"/events/{envelope.EventId}");
        Assert.Equal("dead_lettered", (string)details["status"]!);
        var stage = Assert.Single(details["stages"]!.AsArray(), s => (string)s!["stage"]! == "dead_lettered:catalog")!;
        Assert.Equal(RegistryDeadLetters.RetryBudgetSpent, (string)stage["reason"]!);

        // Counted where the distributed mode sees dead letters, under the standalone queue's name and labels; the
        // other series exist at 0, so an alert sees the first one of each as an increase.
        var scrape = await ScrapeAsync();
        Assert.Equal(1, scrape.Sum("axentra_pubsub_dead_letters_total", ("subscriber", "catalog"), ("reason", "exhausted")));
        Assert.Equal(0, scrape.Sum("axentra_pubsub_dead_letters_total", ("subscriber", "catalog"), ("reason", "dropped")));
        Assert.Equal(0, scrape.Sum("axentra_pubsub_dead_letters_total", ("subscriber", "audit"), ("reason", "exhausted")));
    }

    [Fact]
    public async Task A_delivery_continues_the_trace_the_sidecar_sends_in_its_traceparent_header()
    {
        // Dapr sends the CloudEvent's trace context as the subscription request's traceparent header: the server span
        // continues it and the delivery span is its child, so the trace runs from the publisher through the broker.
        var traceId = ActivityTraceId.CreateRandom();
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == DeliveryTelemetry.Name,
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
        var envelope = await AcceptAsync("store-dl-trace");

        await DeadLetterAsync(PlatformNames.AppIds.Catalog, Guid.NewGuid().ToString(), envelope, traceparent: $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");

        var delivery = Assert.Single(spans);
        Assert.Equal($"deliver {PlatformNames.Topics.DeadLetterOf(PlatformNames.AppIds.Catalog)} to {PlatformNames.AppIds.Intake}", delivery.DisplayName);
        Assert.Equal(envelope.EventId, delivery.GetTagItem("axentra.event_id"));
    }

    [Fact]
    public async Task A_dropped_message_keeps_the_reason_and_attempts_its_subscriber_recorded()
    {
        var envelope = await AcceptAsync("store-dl-drop");
        var registry = _intake.App.Services.GetRequiredService<EventRegistry>();
        await registry.ReportStageAsync(new StageRecord
        {
            EventId = envelope.EventId,
            Stage = EventRegistry.DeadLetterStage(PlatformNames.AppIds.Audit),
            At = DateTimeOffset.UtcNow,
            Reason = "conflict: raw object already holds different bytes",
            Attempts = 2,
        }, Ct);

        await DeadLetterAsync(PlatformNames.AppIds.Audit, Guid.NewGuid().ToString(), envelope);

        var letter = Assert.Single(await ListAsync("?subscriber=audit"));
        Assert.Equal("conflict: raw object already holds different bytes", (string)letter["reason"]!);
        Assert.Equal(2, (int)letter["attempts"]!);
        Assert.Equal(1, (await ScrapeAsync()).Sum("axentra_pubsub_dead_letters_total", ("subscriber", "audit"), ("reason", "dropped")));
    }

    [Fact]
    public async Task The_same_dead_letter_delivered_again_is_kept_once()
    {
        // On a clock that reads the same instant every time: racing deliveries then build records that differ only by
        // their delivery token, which is what keeps the store's ambiguous first-write from taking each as its own.
        await RestartIntakeAsync(services: services => services.AddSingleton<TimeProvider>(new StoppedClock(DateTimeOffset.UtcNow)));
        var envelope = await AcceptAsync("store-dl-dup");
        var messageId = Guid.NewGuid().ToString();
        // All at once, so some pass the "already kept" check before any has indexed it: kept, and counted, once.
        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => DeadLetterAsync(PlatformNames.AppIds.Catalog, messageId, envelope)));

        Assert.Single(await ListAsync());
        Assert.Single(Sidecar.StoredStateKeys(PlatformNames.Components.RegistryStateStore), k => k.Contains("dead-letter:", StringComparison.Ordinal));
        Assert.Equal(1, (await ScrapeAsync()).Sum("axentra_pubsub_dead_letters_total", ("subscriber", "catalog")));
    }

    [Fact]
    public async Task A_redrive_the_subscriber_handles_hands_it_the_envelope_and_forgets_the_dead_letter()
    {
        var envelope = await AcceptAsync("store-dl-ok");
        var messageId = Guid.NewGuid().ToString();
        await DeadLetterAsync(PlatformNames.AppIds.Catalog, messageId, envelope);

        var redrive = await OpsAsync(HttpMethod.Post, $"/admin/dead-letters/catalog/{messageId}/redrive");
        Assert.Equal(HttpStatusCode.OK, redrive.StatusCode);
        var result = JsonNode.Parse(await redrive.Content.ReadAsStringAsync(Ct))!;
        Assert.Equal(1, (int)result["redriven"]!);
        Assert.Equal(1, (int)result["resolved"]!);

        var (receivedId, receivedBody) = Assert.Single(_subscribers[PlatformNames.AppIds.Catalog].Received);
        Assert.Equal(messageId, receivedId);
        var received = JsonSerializer.Deserialize(receivedBody, ContractsJsonContext.Default.WebhookEnvelope)!;
        Assert.Equal(envelope.EventId, received.EventId);
        Assert.Equal(envelope.Payload, received.Payload);
        var invocation = Assert.Single(Sidecar.Invocations);
        Assert.Equal((PlatformNames.AppIds.Catalog, "POST", DaprSubscriberEndpoints.RouteOf(PlatformNames.Topics.WebhookEvents, PlatformNames.AppIds.Catalog)),
            (invocation.AppId, invocation.HttpMethod, invocation.PathAndQuery));
        Assert.Equal(PlatformNames.AppIds.Intake, invocation.Headers["dapr-caller-app-id"]);

        Assert.Empty(await ListAsync());
        Assert.DoesNotContain(Sidecar.StoredStateKeys(PlatformNames.Components.RegistryStateStore), k => k.Contains("dead-letter:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_redrive_the_subscriber_asks_to_retry_keeps_the_dead_letter_with_one_more_attempt()
    {
        var envelope = await AcceptAsync("store-dl-retry");
        var messageId = Guid.NewGuid().ToString();
        await DeadLetterAsync(PlatformNames.AppIds.Catalog, messageId, envelope);
        _subscribers[PlatformNames.AppIds.Catalog].Answer = DeliveryOutcome.Retry;

        var redrive = await OpsAsync(HttpMethod.Post, $"/admin/dead-letters/catalog/{messageId}/redrive");
        var result = JsonNode.Parse(await redrive.EnsureSuccessStatusCode().Content.ReadAsStringAsync(Ct))!;
        Assert.Equal((1, 0), ((int)result["redriven"]!, (int)result["resolved"]!));

        var letter = Assert.Single(await ListAsync());
        Assert.Equal(2, (int)letter["attempts"]!);
        Assert.Contains("RETRY", (string)letter["reason"]!, StringComparison.Ordinal);
        Assert.Equal("dead_lettered", (string)(await GetJsonAsync($"/events/{envelope.EventId}"))["status"]!);
    }

    [Fact]
    public async Task Redriving_all_of_one_subscriber_leaves_the_other_subscribers_dead_letters_alone()
    {
        foreach (var store in new[] { "store-dl-a", "store-dl-b" })
        {
            await DeadLetterAsync(PlatformNames.AppIds.Catalog, Guid.NewGuid().ToString(), await AcceptAsync(store));
        }

        await DeadLetterAsync(PlatformNames.AppIds.Audit, Guid.NewGuid().ToString(), await AcceptAsync("store-dl-c"));
        Assert.Equal(3, (await ListAsync()).Count);

        var redrive = await OpsAsync(HttpMethod.Post, "/admin/dead-letters/redrive?subscriber=catalog");
        var result = JsonNode.Parse(await redrive.EnsureSuccessStatusCode().Content.ReadAsStringAsync(Ct))!;
        Assert.Equal((2, 2), ((int)result["redriven"]!, (int)result["resolved"]!));
        Assert.Equal(2, _subscribers[PlatformNames.AppIds.Catalog].Received.Count);
        Assert.Empty(_subscribers[PlatformNames.AppIds.Audit].Received);
        Assert.Equal(PlatformNames.AppIds.Audit, (string)Assert.Single(await ListAsync())["subscriber"]!);
    }

    [Fact]
    public async Task A_resolved_dead_letter_leaves_the_list_and_its_event_keeps_the_operators_reason()
    {
        var envelope = await AcceptAsync("store-dl-resolve");
        await AuditedAsync(envelope); // the other subscriber handled it
        var messageId = Guid.NewGuid().ToString();
        await DeadLetterAsync(PlatformNames.AppIds.Catalog, messageId, envelope);
        await DeadLetterAsync(PlatformNames.AppIds.Audit, Guid.NewGuid().ToString(), await AcceptAsync("store-dl-other"));

        var resolve = await OpsAsync(HttpMethod.Post, $"/admin/dead-letters/catalog/{messageId}/resolve?reason=superseded%20by%20a%20later%20update");

        Assert.Equal(HttpStatusCode.NoContent, resolve.StatusCode);
        Assert.Equal(PlatformNames.AppIds.Audit, (string)Assert.Single(await ListAsync())["subscriber"]!); // the other one stays
        Assert.DoesNotContain(Sidecar.StoredStateKeys(PlatformNames.Components.RegistryStateStore), k => k.Contains($"dead-letter:catalog:{messageId}", StringComparison.Ordinal));
        Assert.Empty(Sidecar.Invocations); // nothing handed back to the subscriber
        var details = await GetJsonAsync($"/events/{envelope.EventId}");
        Assert.Equal("resolved", (string)details["status"]!);
        var stage = Assert.Single(details["stages"]!.AsArray(), s => (string)s!["stage"]! == "resolved:catalog")!;
        Assert.Equal("superseded by a later update", (string)stage["reason"]!);
        Assert.Equal(1, (await ScrapeAsync()).Sum("axentra_pubsub_dead_letters_resolved_total", ("subscriber", "catalog")));

        // Gone: a second resolution finds nothing, and the message delivered again (at least once) is not kept again.
        await WebhookEndpointTests.AssertProblem(
            await OpsAsync(HttpMethod.Post, $"/admin/dead-letters/catalog/{messageId}/resolve?reason=again"), HttpStatusCode.NotFound);
        await DeadLetterAsync(PlatformNames.AppIds.Catalog, messageId, envelope);
        Assert.Equal(PlatformNames.AppIds.Audit, (string)Assert.Single(await ListAsync())["subscriber"]!);
        Assert.Equal("resolved", (string)(await GetJsonAsync($"/events/{envelope.EventId}"))["status"]!);
    }

    [Fact]
    public async Task Two_racing_resolutions_of_one_dead_letter_both_answer_204_and_count_it_once()
    {
        // Both read the record before either deletes it (each delete waits for the other's): the one whose delete takes
        // the record counts it; the other finds it gone.
        await RestartIntakeAsync(services: services => services.Decorate<IStateStore>((_, inner) => new PairedDeadLetterDeletes(inner)));
        var envelope = await AcceptAsync("store-dl-two-resolutions");
        var messageId = Guid.NewGuid().ToString();
        await DeadLetterAsync(PlatformNames.AppIds.Catalog, messageId, envelope);

        var answers = await Task.WhenAll(new[] { "first", "second" }.Select(reason =>
            OpsAsync(HttpMethod.Post, $"/admin/dead-letters/catalog/{messageId}/resolve?reason={reason}")));

        Assert.All(answers, answer => Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode));
        Assert.Empty(await ListAsync());
        Assert.Equal(1, (await ScrapeAsync()).Sum("axentra_pubsub_dead_letters_resolved_total", ("subscriber", "catalog")));
    }

    [Fact]
    public async Task A_resolution_during_a_redrive_the_subscriber_drops_stands()
    {
        var envelope = await AcceptAsync("store-dl-race");
        await AuditedAsync(envelope);
        var messageId = Guid.NewGuid().ToString();
        await DeadLetterAsync(PlatformNames.AppIds.Catalog, messageId, envelope);
        var registry = _intake.App.Services.GetRequiredService<EventRegistry>();
        var subscriber = _subscribers[PlatformNames.AppIds.Catalog];
        subscriber.Answer = DeliveryOutcome.Drop;
        subscriber.During = async () =>
        {
            // While the redrive waits for the subscriber, an operator resolves the dead letter; then the subscriber drops
            // the event again, recording its reason as a DROP does.
            using var resolve = await OpsAsync(HttpMethod.Post, $"/admin/dead-letters/catalog/{messageId}/resolve?reason=superseded");
            Assert.Equal(HttpStatusCode.NoContent, resolve.StatusCode);
            await registry.ReportStageAsync(new StageRecord
            {
                EventId = envelope.EventId,
                Stage = EventRegistry.DeadLetterStage(PlatformNames.AppIds.Catalog),
                At = DateTimeOffset.UtcNow,
                Reason = "poison",
            }, Ct);
        };

        using var redrive = await OpsAsync(HttpMethod.Post, $"/admin/dead-letters/catalog/{messageId}/redrive");

        Assert.Equal(HttpStatusCode.OK, redrive.StatusCode);
        Assert.Empty(await ListAsync());
        Assert.Equal("resolved", (string)(await GetJsonAsync($"/events/{envelope.EventId}"))["status"]!);
    }

    [Theory]
    [InlineData("")]
    [InlineData("?reason=")]
    [InlineData("?reason=%20%20")]
    [InlineData("?reason=two%0Alines")]
    [InlineData("?reason=two%E2%80%A8lines")]
    public async Task A_resolution_without_a_one_line_reason_is_400_and_keeps_the_dead_letter(string query)
    {
        var messageId = Guid.NewGuid().ToString();
        await DeadLetterAsync(PlatformNames.AppIds.Catalog, messageId, await AcceptAsync("store-dl-noreason"));

        await WebhookEndpointTests.AssertProblem(await OpsAsync(HttpMethod.Post, $"/admin/dead-letters/catalog/{messageId}/resolve{query}"), HttpStatusCode.BadRequest);

        Assert.Single(await ListAsync());
    }

    [Fact]
    public async Task A_full_index_leaves_new_dead_letters_in_the_queue_and_first_drops_ids_whose_record_is_gone()
    {
        await RestartIntakeAsync(new Dictionary<string, string> { ["Intake:DeadLetters:MaxPerSubscriber"] = "2" });
        var (first, second, third, fourth) = (Guid.NewGuid().ToString(), Guid.NewGuid().ToString(), Guid.NewGuid().ToString(), Guid.NewGuid().ToString());
        await DeadLetterAsync(PlatformNames.AppIds.Catalog, first, await AcceptAsync("store-dl-full-1"));
        await DeadLetterAsync(PlatformNames.AppIds.Catalog, second, await AcceptAsync("store-dl-full-2"));

        // A forget (redrive or resolution) that deleted the record but lost every race for the index leaves its id behind.
        await Sidecar.Client.DeleteStateAsync(PlatformNames.Components.RegistryStateStore, RegistryKeys.DeadLetter(PlatformNames.AppIds.Catalog, first), cancellationToken: Ct);
        await DeadLetterAsync(PlatformNames.AppIds.Catalog, third, await AcceptAsync("store-dl-full-3"));
        var kept = (await ListAsync()).Select(l => (string)l["message_id"]!);
        Assert.Equal(new[] { second, third }.Order(StringComparer.Ordinal), kept.Order(StringComparer.Ordinal));

        // Full of live dead letters: not acknowledged, so SQS keeps it (and, after 5 receives, intake's DLQ).
        await DeadLetterAsync(PlatformNames.AppIds.Catalog, fourth, await AcceptAsync("store-dl-full-4"), expected: "RETRY");
        Assert.Equal(2, (await ListAsync()).Count);
    }

    [Fact]
    public async Task Unknown_dead_letters_are_404_and_unsafe_names_400()
    {
        await WebhookEndpointTests.AssertProblem(await OpsAsync(HttpMethod.Post, $"/admin/dead-letters/catalog/{Guid.NewGuid()}/redrive"), HttpStatusCode.NotFound);
        await WebhookEndpointTests.AssertProblem(await OpsAsync(HttpMethod.Post, "/admin/dead-letters/bad%20name/1/redrive"), HttpStatusCode.BadRequest);
        await WebhookEndpointTests.AssertProblem(await OpsAsync(HttpMethod.Post, "/admin/dead-letters/catalog/a%2F..%2Fb/redrive"), HttpStatusCode.BadRequest);
        await WebhookEndpointTests.AssertProblem(await OpsAsync(HttpMethod.Post, $"/admin/dead-letters/catalog/{Guid.NewGuid()}/resolve?reason=x"), HttpStatusCode.NotFound);
        await WebhookEndpointTests.AssertProblem(await OpsAsync(HttpMethod.Post, "/admin/dead-letters/bad%20name/1/resolve?reason=x"), HttpStatusCode.BadRequest);
        await WebhookEndpointTests.AssertProblem(await OpsAsync(HttpMethod.Get, "/admin/dead-letters?subscriber=..%2Fx"), HttpStatusCode.BadRequest);
        await WebhookEndpointTests.AssertProblem(await OpsAsync(HttpMethod.Post, "/admin/dead-letters/redrive?subscriber=a%20b"), HttpStatusCode.BadRequest);
        Assert.Empty(Sidecar.Invocations);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(ApiKey)]
    public async Task The_dead_letter_api_needs_the_ops_credential(string? key)
    {
        await DeadLetterAsync(PlatformNames.AppIds.Catalog, Guid.NewGuid().ToString(), await AcceptAsync("store-dl-auth"));
        var messageId = (string)(await ListAsync()).Single()["message_id"]!;
        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, "/admin/dead-letters"), (HttpMethod.Post, "/admin/dead-letters/redrive"), (HttpMethod.Post, $"/admin/dead-letters/catalog/{messageId}/resolve?reason=x"),
        })
        {
            await WebhookEndpointTests.AssertProblem(await OpsAsync(method, path, key), HttpStatusCode.Unauthorized);
        }

        Assert.Empty(Sidecar.Invocations);
        Assert.Single(await ListAsync());
    }

    [Fact]
    public async Task Programmatic_subscriptions_list_the_dead_letter_topics_without_a_dead_letter_topic_of_their_own()
    {
        var subscriptions = JsonNode.Parse(await Client.GetStringAsync("/dapr/subscribe", Ct))!.AsArray();
        foreach (var app in PlatformNames.AppIds.WebhookEventSubscribers)
        {
            var topic = PlatformNames.Topics.DeadLetterOf(app);
            var subscription = Assert.Single(subscriptions, s => (string)s!["topic"]! == topic)!;
            Assert.Equal(PlatformNames.Components.PubSub, (string)subscription["pubsubName"]!);
            // Dapr.AspNetCore lists the route pattern, without its leading slash; the sidecar adds it back.
            Assert.Equal(DaprSubscriberEndpoints.RouteOf(topic, PlatformNames.AppIds.Intake).TrimStart('/'), (string)(subscription["route"] ?? subscription["routes"]!["default"])!);
            Assert.Null(subscription["deadLetterTopic"]);
        }
    }

    [Fact]
    public async Task A_webhook_posted_as_a_cloudevent_is_still_refused_not_unwrapped()
    {
        var cloudEvent = new JsonObject { ["specversion"] = "1.0", ["id"] = "x", ["data"] = new JsonObject { ["store_id"] = "s-ce" } };
        var response = await Client.SendAsync(Webhook(cloudEvent.ToJsonString(), "application/cloudevents+json"), Ct);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    private static Task<DaprIntake> StartIntakeAsync(IReadOnlyDictionary<string, string>? settings = null, Action<IServiceCollection>? services = null) =>
        DaprIntake.StartAsync(
            new Dictionary<string, string>(settings ?? new Dictionary<string, string>()) { ["Intake:Auth:ApiKeys:0"] = ApiKey, ["Ops:Auth:ApiKeys:0"] = OpsKey }, Ct, services);

    /// <summary>Replaces the class's intake with one configured otherwise, on a sidecar stand-in of its own without the subscriber apps (nothing to redrive to).</summary>
    private async Task RestartIntakeAsync(IReadOnlyDictionary<string, string>? settings = null, Action<IServiceCollection>? services = null)
    {
        await _intake.DisposeAsync();
        _intake = await StartIntakeAsync(settings, services);
    }

    /// <summary>Posts a webhook and returns the envelope intake published for it.</summary>
    private async Task<WebhookEnvelope> AcceptAsync(string storeId)
    {
        var response = await Client.SendAsync(Webhook($$"""{"event_type":"new_store","store_id":"{{storeId}}","store_domain":"{{storeId}}.example"}"""), Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var eventId = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("event_id").GetString();
        return Sidecar.Published
            .Where(m => m.Topic == PlatformNames.Topics.WebhookEvents)
            .Select(m => JsonSerializer.Deserialize(m.Data, ContractsJsonContext.Default.WebhookEnvelope)!)
            .Single(e => e.EventId == eventId);
    }

    /// <summary>Reports the event audited, as the audit service does once it has written the raw object.</summary>
    private Task AuditedAsync(WebhookEnvelope envelope) =>
        _intake.App.Services.GetRequiredService<EventRegistry>().ReportStageAsync(
            new StageRecord { EventId = envelope.EventId, Stage = Stages.Audited, At = DateTimeOffset.UtcNow, S3Key = envelope.S3Key }, Ct).AsTask();

    /// <summary>What the subscriber's sidecar sends to its dead-letter topic, as intake's sidecar delivers it: the original CloudEvent.</summary>
    private async Task DeadLetterAsync(string subscriber, string messageId, WebhookEnvelope envelope, string? traceparent = null, string expected = "SUCCESS")
    {
        var cloudEvent = new JsonObject
        {
            ["specversion"] = "1.0",
            ["id"] = messageId,
            ["source"] = PlatformNames.AppIds.Intake,
            ["type"] = "com.dapr.event.sent",
            ["topic"] = PlatformNames.Topics.WebhookEvents,
            ["pubsubname"] = PlatformNames.Components.PubSub,
            ["datacontenttype"] = "application/json",
            ["time"] = DateTimeOffset.UtcNow.ToString("O"),
            ["data"] = JsonNode.Parse(JsonSerializer.SerializeToUtf8Bytes(envelope, ContractsJsonContext.Default.WebhookEnvelope)),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, DaprSubscriberEndpoints.RouteOf(PlatformNames.Topics.DeadLetterOf(subscriber), PlatformNames.AppIds.Intake))
        {
            Content = new StringContent(cloudEvent.ToJsonString(), Encoding.UTF8, "application/cloudevents+json"),
        };
        if (traceparent is not null)
        {
            request.Headers.Add("traceparent", traceparent);
        }

        var response = await Client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString());
    }

    private async Task<PrometheusScrape> ScrapeAsync() => new(await Client.GetStringAsync("/metrics", Ct));

    private async Task<List<JsonNode>> ListAsync(string query = "") =>
        [.. (await GetJsonAsync("/admin/dead-letters" + query)).AsArray().Select(letter => letter!)];

    private async Task<JsonNode> GetJsonAsync(string path)
    {
        var response = await OpsAsync(HttpMethod.Get, path);
        return JsonNode.Parse(await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync(Ct))!;
    }

    private Task<HttpResponseMessage> OpsAsync(HttpMethod method, string path, string? key = OpsKey)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Add("x-api-key", key);
        }

        return Client.SendAsync(request, Ct);
    }

    private static HttpRequestMessage Webhook(string json, string contentType = "application/json") => StandaloneApp.Webhook(json, ApiKey, contentType);

    /// <summary>A subscriber app as deployed: CloudEvents unwrapped, its handler behind the real subscription endpoint.</summary>
    private async Task<HttpMessageHandler> StartSubscriberAppAsync(ScriptedSubscriber handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration[DaprSubscriberEndpoints.ProgrammaticSubscriptionsKey] = "false";
        builder.Services.AddSingleton<IMessageHandler>(handler);
        var app = builder.Build();
        app.UseCloudEvents();
        app.MapDaprSubscribers(PlatformNames.Components.PubSub);
        await app.StartAsync(Ct);
        _apps.Add(app);
        return app.GetTestServer().CreateHandler();
    }

    /// <summary>A subscriber of <c>webhook-events</c> that answers what the test says and records what it got.</summary>
    private sealed class ScriptedSubscriber(string subscriber) : IMessageHandler
    {
        public DeliveryOutcome Answer { get; set; } = DeliveryOutcome.Success;

        public ConcurrentQueue<(string MessageId, byte[] Message)> Received { get; } = new();

        public string Subscriber => subscriber;

        public string Topic => PlatformNames.Topics.WebhookEvents;

        /// <summary>Runs while a delivery waits for the answer, when set.</summary>
        public Func<Task>? During { get; set; }

        public async ValueTask<DeliveryOutcome> HandleAsync(ReadOnlyMemory<byte> message, DeliveryContext context, CancellationToken cancellationToken)
        {
            Received.Enqueue((context.MessageId, message.ToArray()));
            if (During is { } during)
            {
                await during();
            }

            return Answer;
        }
    }

    /// <summary>Holds each delete of a dead-letter record until a second one arrives (at most 5 s).</summary>
    private sealed class PairedDeadLetterDeletes(IStateStore inner) : IStateStore
    {
        private readonly TaskCompletionSource _paired = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _arrived;

        public ValueTask<StateEntry?> GetAsync(string key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);

        public ValueTask<SaveOutcome> TrySaveAsync(string key, ReadOnlyMemory<byte> value, string? etag, TimeSpan? timeToLive, CancellationToken cancellationToken) =>
            inner.TrySaveAsync(key, value, etag, timeToLive, cancellationToken);

        public ValueTask SaveAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? timeToLive, CancellationToken cancellationToken) =>
            inner.SaveAsync(key, value, timeToLive, cancellationToken);

        public async ValueTask<bool> TryDeleteAsync(string key, string? etag, CancellationToken cancellationToken)
        {
            if (key.Contains("dead-letter:", StringComparison.Ordinal))
            {
                if (Interlocked.Increment(ref _arrived) == 2)
                {
                    _paired.TrySetResult();
                }

                await Task.WhenAny(_paired.Task, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken));
            }

            return await inner.TryDeleteAsync(key, etag, cancellationToken);
        }
    }

    /// <summary>A clock stopped at one instant; its timers are the system's.</summary>
    private sealed class StoppedClock(DateTimeOffset at) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => at;
    }
}
