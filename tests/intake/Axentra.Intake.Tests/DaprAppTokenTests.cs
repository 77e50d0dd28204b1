using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Axentra.BuildingBlocks.Dapr;
using Axentra.Contracts;

namespace Axentra.Intake.Tests;

/// <summary>
/// The distributed intake's subscription routes answer only its Dapr sidecar, which sends the app API token
/// (<see cref="DaprAppToken"/>); anything else that reaches the port gets 401, and nothing it sent is kept. The public
/// webhook route and the ops edge are not the sidecar's and keep their own credentials.
/// </summary>
public sealed class DaprAppTokenTests
{
    private const string ApiKey = "token-tests-sender-key";
    private const string OpsKey = "token-tests-ops-key";
    private const string AppToken = "the-sidecars-app-api-token";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string DeadLetterRoute =
        DaprSubscriberEndpoints.RouteOf(PlatformNames.Topics.DeadLetterOf(PlatformNames.AppIds.Catalog), PlatformNames.AppIds.Intake);

    private static HttpRequestMessage DeadLetter(string route, string messageId, string? token)
    {
        var envelope = new WebhookEnvelope
        {
            EventId = "0123456789abcdef-1700000000",
            PayloadHash = new string('0', 64),
            EventType = EventTypes.ProductUpdate,
            StoreId = "victim-store",
            ProductId = "victim-product",
            S3Key = "victim-store/product_update/2025/01/01/0123456789abcdef-1700000000.json",
            ReceivedAt = DateTimeOffset.UtcNow,
            DedupeKey = "webhook-id:forged",
            Payload = Encoding.UTF8.GetBytes("""{"event_type":"product_update","products":{"product_id":"victim-product","store_id":"victim-store"}}"""),
        };
        var request = new HttpRequestMessage(HttpMethod.Post, route) { Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(envelope, ContractsJsonContext.Default.WebhookEnvelope)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(DaprSubscriberEndpoints.MessageIdHeader, messageId);
        if (token is not null)
        {
            request.Headers.Add(DaprAppToken.Header, token);
        }

        return request;
    }

    private static async Task<JsonArray> DeadLettersAsync(HttpClient client)
    {
        using var list = new HttpRequestMessage(HttpMethod.Get, "/admin/dead-letters");
        list.Headers.Add("x-api-key", OpsKey);
        return JsonNode.Parse(await (await client.SendAsync(list, Ct)).Content.ReadAsStringAsync(Ct))!.AsArray();
    }

    [Fact]
    public async Task Only_a_request_with_the_sidecars_token_reaches_a_subscription_route()
    {
        await using var intake = await DaprIntake.StartAsync(new Dictionary<string, string>
        {
            ["Intake:Auth:ApiKeys:0"] = ApiKey,
            ["Ops:Auth:ApiKeys:0"] = OpsKey,
            [DaprAppToken.ConfigKey] = AppToken,
        }, Ct);

        foreach (var (route, token) in new[] { (DeadLetterRoute, (string?)null), (DeadLetterRoute, "a-guess"), (DeadLetterRoute.ToUpperInvariant(), null), (DeadLetterRoute, OpsKey) })
        {
            var refused = await intake.Client.SendAsync(DeadLetter(route, "forged-" + token, token), Ct);
            await WebhookEndpointTests.AssertProblem(refused, HttpStatusCode.Unauthorized);
        }

        Assert.Empty(await DeadLettersAsync(intake.Client));

        var fromSidecar = await intake.Client.SendAsync(DeadLetter(DeadLetterRoute, "from-the-sidecar", AppToken), Ct);
        Assert.Equal(HttpStatusCode.OK, fromSidecar.StatusCode);
        Assert.Contains("SUCCESS", await fromSidecar.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal("from-the-sidecar", (string)Assert.Single(await DeadLettersAsync(intake.Client))!["message_id"]!);

        // The public routes are not the sidecar's: a webhook needs its own credential, not the token.
        var webhook = StandaloneApp.Webhook("""{"event_type":"new_store","store_id":"s-token"}""", ApiKey);
        Assert.Equal(HttpStatusCode.Accepted, (await intake.Client.SendAsync(webhook, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await intake.Client.GetAsync("/healthz", Ct)).StatusCode);
    }
}
