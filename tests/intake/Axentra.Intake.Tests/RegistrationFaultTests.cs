using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Axentra.BuildingBlocks.State;
using Axentra.Classification;
using Axentra.Intake.Domain;
using Axentra.Intake.Registration;
using Microsoft.Extensions.DependencyInjection;

namespace Axentra.Intake.Tests;

/// <summary>No lost webhooks, no double processing: injected faults and races through the real pipeline.</summary>
public sealed class RegistrationFaultTests : IDisposable
{
    private readonly StandaloneApp _app = new();
    private readonly HttpClient _client;

    public RegistrationFaultTests() => _client = _app.CreateClient();

    public void Dispose() => _app.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<string> EventIdOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("event_id").GetString()!;

    [Fact]
    public async Task A_publish_failure_after_the_claim_is_a_503_and_the_retry_is_processed_not_called_a_duplicate()
    {
        // Step by step, as on Dapr: the claim is written, then the publish fails.
        using var stepwise = new StandaloneApp(transactionalOutbox: false);
        using var client = stepwise.CreateClient();
        const string body = """{"event_type":"new_store","store_id":"s-fault","store_domain":"fault.example"}""";
        stepwise.Publisher.FailNext(1);
        var beforeFirst = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var failed = await client.SendAsync(StandaloneApp.Webhook(body), Ct);
        var afterFirst = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var problem = await WebhookEndpointTests.AssertProblem(failed, HttpStatusCode.ServiceUnavailable);
        Assert.True(failed.Headers.Contains("Retry-After"));
        Assert.Equal(0, stepwise.Publisher.Published);

        await Task.Delay(TimeSpan.FromSeconds(1.1), Ct);
        var retry = await client.SendAsync(StandaloneApp.Webhook(body), Ct);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal(1, stepwise.Publisher.Published);

        // The retry took the released claim over and kept its identity: the event id carries the first receipt.
        var eventId = await EventIdOf(retry);
        Assert.InRange(long.Parse(eventId.Split('-')[1], System.Globalization.CultureInfo.InvariantCulture), beforeFirst, afterFirst);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(StandaloneApp.Webhook(body), Ct)).StatusCode);
        _ = problem;
    }

    [Fact]
    public async Task A_failed_outbox_commit_is_a_503_that_leaves_nothing_behind_and_the_retry_is_a_first_delivery()
    {
        const string body = """{"event_type":"new_store","store_id":"s-commit","store_domain":"commit.example"}""";
        var (webhook, _) = WebhookClassifier.Classify(Encoding.UTF8.GetBytes(body), webhookId: null);
        _app.Publisher.FailNext(1);
        var failed = await _client.SendAsync(StandaloneApp.Webhook(body), Ct);
        await WebhookEndpointTests.AssertProblem(failed, HttpStatusCode.ServiceUnavailable);
        Assert.True(failed.Headers.Contains("Retry-After"));

        // Claim, registry and message are one commit: none of them exists.
        var state = _app.Services.GetRequiredService<IStateStore>();
        Assert.Null(await state.GetAsync(DedupeClaim.KeyOf(webhook!.DedupeKey), Ct));
        Assert.Equal(0, _app.Publisher.Published);

        var retry = await _client.SendAsync(StandaloneApp.Webhook(body), Ct);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal(1, _app.Publisher.Published);
        var eventId = await EventIdOf(retry);
        Assert.NotNull(await state.GetAsync(Contracts.RegistryKeys.Event(eventId), Ct));
        var claim = await state.GetJsonAsync(DedupeClaim.KeyOf(webhook.DedupeKey), IntakeJsonContext.Default.DedupeClaim, Ct);
        Assert.Equal(DedupeClaim.Accepted, claim!.Value.Value.State);
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(StandaloneApp.Webhook(body), Ct)).StatusCode);
    }

    [Fact]
    public async Task While_the_backend_is_down_every_delivery_gets_503_and_none_a_2xx()
    {
        _app.Publisher.FailNext(int.MaxValue);
        for (var i = 0; i < 3; i++)
        {
            var response = await _client.SendAsync(StandaloneApp.Webhook($$"""{"store_id":"down","n":{{i}}}"""), Ct);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        Assert.Equal(0, _app.Publisher.Published);
        _app.Publisher.FailNext(0);
        Assert.Equal(HttpStatusCode.Accepted, (await _client.SendAsync(StandaloneApp.Webhook("""{"store_id":"down","n":0}"""), Ct)).StatusCode);
    }

    [Fact]
    public async Task A_delivery_whose_process_died_mid_way_is_taken_over_by_the_next_with_the_same_identity()
    {
        const string body = """{"event_type":"product_update","products":{"product_id":"p-dead","store_id":"s-dead"}}""";
        var (webhook, _) = WebhookClassifier.Classify(Encoding.UTF8.GetBytes(body), webhookId: null);
        var diedAt = DateTimeOffset.UtcNow.AddSeconds(-40);
        var orphan = new DedupeClaim
        {
            Token = "dead-process",
            State = DedupeClaim.Pending,
            LeaseUntil = diedAt.AddSeconds(30),
            WindowEndsAt = diedAt.AddHours(24),
            Event = EventIdentity.Create(webhook!, diedAt),
        };
        var state = _app.Services.GetRequiredService<IStateStore>();
        await state.SaveJsonAsync(DedupeClaim.KeyOf(webhook!.DedupeKey), orphan, IntakeJsonContext.Default.DedupeClaim, TimeSpan.FromHours(1), Ct);

        var response = await _client.SendAsync(StandaloneApp.Webhook(body), Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(orphan.Event.EventId, await EventIdOf(response));
        Assert.Equal(1, _app.Publisher.Published);
    }

    [Fact]
    public async Task A_delivery_still_in_flight_elsewhere_is_not_called_a_duplicate_before_it_is_durable()
    {
        using var app = new StandaloneApp(new() { ["Intake:InFlightWait"] = "00:00:00.200" });
        using var client = app.CreateClient();
        const string body = """{"store_id":"s-busy"}""";
        var (webhook, _) = WebhookClassifier.Classify(Encoding.UTF8.GetBytes(body), webhookId: null);
        var busy = new DedupeClaim
        {
            Token = "other-replica",
            State = DedupeClaim.Pending,
            LeaseUntil = DateTimeOffset.UtcNow.AddSeconds(20),
            WindowEndsAt = DateTimeOffset.UtcNow.AddHours(24),
            Event = EventIdentity.Create(webhook!, DateTimeOffset.UtcNow),
        };
        await app.Services.GetRequiredService<IStateStore>().SaveJsonAsync(DedupeClaim.KeyOf(webhook!.DedupeKey), busy, IntakeJsonContext.Default.DedupeClaim, TimeSpan.FromHours(1), Ct);

        var response = await client.SendAsync(StandaloneApp.Webhook(body), Ct);
        await WebhookEndpointTests.AssertProblem(response, HttpStatusCode.ServiceUnavailable);
        var retryAfter = int.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 20);
    }

    [Fact]
    public async Task Five_hundred_concurrent_deliveries_of_one_payload_give_one_202_and_499_duplicates()
    {
        const string body = """{"event_type":"new_product","products":{"name":"Race","product_id":"p-race","store_id":"s-race","product_variants":[{"price":5}]}}""";
        // Warm the host up first: 499 waiters give up on a registration that takes longer than InFlightWait.
        Assert.Equal(HttpStatusCode.Accepted, (await _client.SendAsync(StandaloneApp.Webhook("""{"store_id":"s-race-warm-up"}"""), Ct)).StatusCode);
        var published = _app.Publisher.Published;
        var responses = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => _client.SendAsync(StandaloneApp.Webhook(body), Ct)));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        Assert.Equal(499, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(published + 1, _app.Publisher.Published);
        var ids = await Task.WhenAll(responses.Select(EventIdOf));
        Assert.Single(ids.Distinct());
    }
}
