using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Axentra.Audit.Tests.Support;
using Axentra.BuildingBlocks.Bindings;
using Axentra.Contracts;
using Axentra.TestSupport.Dapr;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Axentra.Audit.Tests.Apis;

/// <summary>
/// The subscription side of the distributed service, as Dapr drives it: <c>GET /dapr/subscribe</c>, then CloudEvents
/// POSTed to the route, answered 200 with SUCCESS / RETRY / DROP.
/// </summary>
public sealed class DaprSubscriptionTests : IAsyncLifetime
{
    private const string Route = "/dapr/subscriptions/webhook-events/audit";
    private AuditServiceFactory _factory = null!;
    private HttpClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        _factory = await AuditServiceFactory.StartAsync();
        _client = _factory.CreateClient();
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return _factory.DisposeAsync();
    }

    [Fact]
    public async Task Dapr_is_told_the_webhook_events_subscription_and_its_dead_letter_topic()
    {
        var subscriptions = JsonNode.Parse(await _client.GetStringAsync("/dapr/subscribe", TestContext.Current.CancellationToken))!.AsArray();

        var subscription = Assert.Single(subscriptions, s => (string?)s!["topic"] == PlatformNames.Topics.WebhookEvents)!;
        Assert.Equal(PlatformNames.Components.PubSub, (string?)subscription["pubsubName"]);
        Assert.Equal(Route.TrimStart('/'), (string?)subscription["route"]); // Dapr.AspNetCore lists routes without the leading '/'

        Assert.Equal("webhook-events-audit-deadletter", (string?)subscription["deadLetterTopic"]);
    }

    [Fact]
    public async Task A_delivered_event_is_audited_and_answered_SUCCESS_and_so_is_its_redelivery()
    {
        var envelope = Envelopes.For("{ \"event_type\":\"new_store\",\n \"store_domain\":\"sunrise-wellness.myshopify.com\" }", EventTypes.StoreCreate);

        Assert.Equal("SUCCESS", await DeliverAsync(CloudEvent(envelope)));
        Assert.Equal("SUCCESS", await DeliverAsync(CloudEvent(envelope)));

        var bucket = _factory.Services.GetRequiredService<IObjectBuckets>().Open(PlatformNames.Buckets.RawAudit);
        Assert.Equal(envelope.Payload, await bucket.GetAsync(envelope.S3Key, TestContext.Current.CancellationToken));
        Assert.NotNull(await bucket.GetAsync(StorageKeys.RawAuditMetadata(envelope.S3Key), TestContext.Current.CancellationToken));
        Assert.Equal(2, _factory.Sidecar.BindingInvocations.Count(i => i.Operation == "create")); // payload + metadata, once
    }

    [Fact]
    public async Task Poison_is_answered_DROP()
    {
        var cloudEvent = CloudEvent(Envelopes.For("""{"a":1}""", EventTypes.ProductCreate));
        cloudEvent["data"] = new JsonObject { ["event_id"] = "abc-1", ["payload"] = "not an envelope" };

        Assert.Equal("DROP", await DeliverAsync(cloudEvent));
    }

    [Fact]
    public async Task A_conflicting_redelivery_is_answered_DROP_and_the_original_kept()
    {
        var envelope = Envelopes.For("""{"price":19.99}""", EventTypes.ProductUpdate);
        Assert.Equal("SUCCESS", await DeliverAsync(CloudEvent(envelope)));

        Assert.Equal("DROP", await DeliverAsync(CloudEvent(envelope with { Payload = Encoding.UTF8.GetBytes("""{"price":0}""") })));

        var bucket = _factory.Services.GetRequiredService<IObjectBuckets>().Open(PlatformNames.Buckets.RawAudit);
        Assert.Equal(envelope.Payload, await bucket.GetAsync(envelope.S3Key, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_bucket_that_is_down_is_answered_RETRY()
    {
        var envelope = Envelopes.For("""{"a":1}""", EventTypes.ProductCreate);
        _factory.Sidecar.Faults.FailNext(DaprMethods.InvokeBinding, StatusCode.Unavailable);

        Assert.Equal("RETRY", await DeliverAsync(CloudEvent(envelope)));
        Assert.Equal("SUCCESS", await DeliverAsync(CloudEvent(envelope)));
    }

    /// <summary>A CloudEvent as the sidecar delivers what intake published with PublishByteEventAsync (application/json data).</summary>
    [Fact]
    public async Task With_an_app_api_token_only_the_sidecar_reaches_the_service_and_probes_still_do()
    {
        // Audit is called only by its sidecar (deliveries, the ops edge's service invocation), the kubelet and Prometheus.
        await using var factory = await AuditServiceFactory.StartAsync(new Dictionary<string, string> { [Axentra.BuildingBlocks.Dapr.DaprAppToken.ConfigKey] = "audit-app-token" });
        using var client = factory.CreateClient();
        var envelope = Envelopes.For("""{"event_type":"new_store","store_id":"s-forged"}""", EventTypes.StoreCreate);
        foreach (var token in new[] { null, "wrong" })
        {
            using var content = new StringContent(CloudEvent(envelope).ToJsonString(), Encoding.UTF8, "application/cloudevents+json");
            using var forged = new HttpRequestMessage(HttpMethod.Post, Route) { Content = content };
            using var read = new HttpRequestMessage(HttpMethod.Get, $"/audit/events/{envelope.EventId}");
            if (token is not null)
            {
                forged.Headers.Add(Axentra.BuildingBlocks.Dapr.DaprAppToken.Header, token);
                read.Headers.Add(Axentra.BuildingBlocks.Dapr.DaprAppToken.Header, token);
            }

            Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(forged, TestContext.Current.CancellationToken)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(read, TestContext.Current.CancellationToken)).StatusCode);
        }

        Assert.DoesNotContain(factory.Sidecar.BindingInvocations, i => i.Operation == "create");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/metrics", TestContext.Current.CancellationToken)).StatusCode);

        using var delivered = new StringContent(CloudEvent(envelope).ToJsonString(), Encoding.UTF8, "application/cloudevents+json");
        using var fromSidecar = new HttpRequestMessage(HttpMethod.Post, Route) { Content = delivered };
        fromSidecar.Headers.Add(Axentra.BuildingBlocks.Dapr.DaprAppToken.Header, "audit-app-token");
        var response = await client.SendAsync(fromSidecar, TestContext.Current.CancellationToken);
        Assert.Contains("SUCCESS", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    private static JsonObject CloudEvent(WebhookEnvelope envelope) => new()
    {
        ["specversion"] = "1.0",
        ["id"] = Guid.NewGuid().ToString(),
        ["source"] = PlatformNames.AppIds.Intake,
        ["type"] = "com.dapr.event.sent",
        ["datacontenttype"] = "application/json",
        ["pubsubname"] = PlatformNames.Components.PubSub,
        ["topic"] = PlatformNames.Topics.WebhookEvents,
        ["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ["data"] = JsonNode.Parse(Envelopes.Serialize(envelope)),
    };

    private async Task<string> DeliverAsync(JsonObject cloudEvent)
    {
        using var content = new StringContent(cloudEvent.ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/cloudevents+json");
        using var response = await _client.PostAsync(Route, content, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return body.RootElement.GetProperty("status").GetString()!;
    }
}
