using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Axentra.Contracts;
using Axentra.TestSupport.Dapr;
using Dapr.Client.Autogen.Grpc.v1;
using Grpc.Core;

namespace Axentra.Intake.Tests;

/// <summary>
/// The distributed intake service (its real Program, Dapr adapters) against the in-process sidecar stand-in that
/// speaks Dapr's gRPC proto and answers like state.aws.dynamodb: the same guarantees as the embedded family.
/// </summary>
public sealed class DaprIntakeTests : IAsyncLifetime
{
    private const string ApiKey = "dapr-test-key";
    private DaprIntake _intake = null!;

    private DaprSidecarStandIn Sidecar => _intake.Sidecar;

    private HttpClient Client => _intake.Client;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _intake = await DaprIntake.StartAsync(new Dictionary<string, string> { ["Intake:Auth:ApiKeys:0"] = ApiKey }, Ct);

    public ValueTask DisposeAsync() => _intake.DisposeAsync();

    private int RegistryRecordCount() =>
        Sidecar.StoredStateKeys(PlatformNames.Components.RegistryStateStore).Count(k => k.Contains("event:", StringComparison.Ordinal));

    private List<PublishedMessage> WebhookEvents => Sidecar.Published.Where(m => m.Topic == PlatformNames.Topics.WebhookEvents).ToList();

    private Task<HttpResponseMessage> Post(string json) => Client.SendAsync(StandaloneApp.Webhook(json, ApiKey), Ct);

    [Fact]
    public async Task The_envelope_goes_to_the_pubsub_component_carrying_the_exact_bytes_received()
    {
        const string body = "{ \"event_type\" : \"new_store\",\n  \"store_id\": \"s-dapr\", \"store_domain\": \"d.example\" }\n";
        var response = await Post(body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var message = Assert.Single(WebhookEvents);
        Assert.Equal(PlatformNames.Components.PubSub, message.PubSubName);
        Assert.Equal("application/json", message.DataContentType);
        var envelope = JsonSerializer.Deserialize(message.Data, ContractsJsonContext.Default.WebhookEnvelope)!;
        Assert.Equal(Encoding.UTF8.GetBytes(body), envelope.Payload);
        var receipt = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(receipt.GetProperty("event_id").GetString(), envelope.EventId);
        Assert.Equal(receipt.GetProperty("s3_key").GetString(), envelope.S3Key);
        Assert.Contains(Sidecar.StoredStateKeys(PlatformNames.Components.RegistryStateStore), k => k.EndsWith(RegistryKeys.Event(envelope.EventId), StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_senders_trace_continues_into_the_publish_daprd_turns_into_the_cloudevent_and_into_the_envelope()
    {
        var traceId = System.Diagnostics.ActivityTraceId.CreateRandom();
        using var request = StandaloneApp.Webhook("""{"event_type":"new_store","store_id":"s-traced","store_domain":"t.example"}""", ApiKey);
        request.Headers.Add("traceparent", $"00-{traceId}-{System.Diagnostics.ActivitySpanId.CreateRandom()}-01");
        Assert.Equal(HttpStatusCode.Accepted, (await Client.SendAsync(request, Ct)).StatusCode);

        var message = Assert.Single(WebhookEvents);
        Assert.NotNull(message.TraceParent);
        Assert.Equal(traceId.ToString(), message.TraceParent!.Split('-')[1]); // gRPC metadata: daprd's source for the CloudEvent's traceparent
        var envelope = JsonSerializer.Deserialize(message.Data, ContractsJsonContext.Default.WebhookEnvelope)!;
        Assert.Equal(traceId.ToString(), envelope.TraceParent!.Split('-')[1]);
    }

    [Fact]
    public async Task A_claim_keyed_by_the_payload_hash_is_kept_as_long_as_the_registry_and_stands_in_for_the_index_entry()
    {
        var hashed = await (await Post("""{"store_id":"s-ttl-hash"}""")).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var request = StandaloneApp.Webhook("""{"store_id":"s-ttl-id"}""", ApiKey);
        request.Headers.Add("webhook-id", "msg_ttl");
        var identified = await (await Client.SendAsync(request, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var hashedHash = hashed.GetProperty("payload_hash").GetString()!;
        var identifiedHash = identified.GetProperty("payload_hash").GetString()!;

        // Every write of a claim (first write, then accepted) carries the same TTL.
        Assert.All(TtlsOf($"dedupe:payload-hash:{hashedHash}"), ttl => Assert.Equal((long)Math.Ceiling(RegistryKeys.Retention.TotalSeconds), ttl));
        Assert.All(TtlsOf("dedupe:webhook-id:msg_ttl"), ttl => Assert.Equal((long)TimeSpan.FromDays(1 + 2).TotalSeconds, ttl)); // window + grace
        var keys = Sidecar.StoredStateKeys(PlatformNames.Components.RegistryStateStore);
        Assert.DoesNotContain(keys, k => k.EndsWith("||" + RegistryKeys.PayloadHash(hashedHash), StringComparison.Ordinal));
        Assert.Contains(keys, k => k.EndsWith("||" + RegistryKeys.PayloadHash(identifiedHash), StringComparison.Ordinal));
    }

    private List<long> TtlsOf(string key)
    {
        var ttls = Sidecar.Calls
            .Where(c => c.Method == DaprMethods.SaveState)
            .SelectMany(c => ((SaveStateRequest)c.Request).States)
            .Where(s => s.Key == key)
            .Select(s => long.Parse(s.Metadata["ttlInSeconds"], System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
        Assert.NotEmpty(ttls);
        return ttls;
    }

    [Fact]
    public async Task Five_hundred_concurrent_deliveries_give_one_202_one_message_one_registry_record()
    {
        const string body = """{"event_type":"new_product","products":{"product_id":"p-race","store_id":"s-race"}}""";
        // Warm the host up first: 499 waiters give up on a registration that takes longer than InFlightWait.
        Assert.Equal(HttpStatusCode.Accepted, (await Post("""{"store_id":"s-race-warm-up"}""")).StatusCode);
        var messagesBefore = WebhookEvents.Count;
        var recordsBefore = RegistryRecordCount();
        var responses = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => Post(body)));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        Assert.Equal(499, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(messagesBefore + 1, WebhookEvents.Count);
        Assert.Equal(recordsBefore + 1, RegistryRecordCount());
    }

    [Fact]
    public async Task A_first_write_that_committed_but_was_reported_as_a_conflict_is_still_our_claim()
    {
        // What a sidecar resiliency retry of a successful conditional write looks like: Internal +
        // ConditionalCheckFailedException for a write that is in fact ours.
        Sidecar.Faults.CommitFirstWriteThenReportConditionFailure(PlatformNames.Components.RegistryStateStore);
        var response = await Post("""{"store_id":"s-replayed-write"}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Single(WebhookEvents);
    }

    [Fact]
    public async Task A_publish_failure_is_503_and_the_retry_is_accepted_with_the_same_identity()
    {
        Sidecar.Faults.FailNext(DaprMethods.PublishEvent, StatusCode.Unavailable);
        const string body = """{"store_id":"s-pub-fail"}""";
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Post(body)).StatusCode);
        Assert.Empty(WebhookEvents);

        var retry = await Post(body);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        var envelope = JsonSerializer.Deserialize(Assert.Single(WebhookEvents).Data, ContractsJsonContext.Default.WebhookEnvelope)!;
        Assert.Equal((await retry.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("event_id").GetString(), envelope.EventId);
        Assert.Equal(HttpStatusCode.OK, (await Post(body)).StatusCode);
    }

    [Fact]
    public async Task A_state_store_outage_is_503_with_retry_after_never_a_2xx()
    {
        Sidecar.Faults.FailNext(DaprMethods.SaveState, StatusCode.Unavailable, times: 10);
        Sidecar.Faults.FailNext(DaprMethods.GetState, StatusCode.Unavailable, times: 10);
        var response = await Post("""{"store_id":"s-outage"}""");
        await WebhookEndpointTests.AssertProblem(response, HttpStatusCode.ServiceUnavailable);
        Assert.True(response.Headers.Contains("Retry-After"));
        Assert.Empty(WebhookEvents);
    }

    [Fact]
    public async Task Every_registry_and_claim_write_carries_a_ttl_for_the_dynamodb_ttl_attribute()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await Post("""{"store_id":"s-ttl"}""")).StatusCode);
        var saves = Sidecar.Calls.Where(c => c.Method == DaprMethods.SaveState).Select(c => (global::Dapr.Client.Autogen.Grpc.v1.SaveStateRequest)c.Request);
        Assert.All(saves.SelectMany(s => s.States), item => Assert.True(item.Metadata.ContainsKey("ttlInSeconds"), item.Key));
    }

    [Fact]
    public async Task A_webhook_id_containing_the_dapr_key_separator_is_accepted_and_deduplicated()
    {
        // Printable ASCII passes WebhookClassifier.IsValidWebhookId, but daprd refuses any state key containing "||"
        // (InvalidArgument): the claim key "dedupe:webhook-id:a||b" must not reach the sidecar as is.
        HttpRequestMessage Request()
        {
            var request = StandaloneApp.Webhook("""{"event_type":"new_store","store_id":"s-pipe","store_domain":"p.example"}""", ApiKey);
            request.Headers.Add("webhook-id", "msg||pipe");
            return request;
        }

        var first = await Client.SendAsync(Request(), Ct);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var second = await Client.SendAsync(Request(), Ct);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Single(WebhookEvents);
    }
}
