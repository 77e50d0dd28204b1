using System.Net;
using System.Text.Json;
using Axentra.Audit.Tests.Support;
using Axentra.BuildingBlocks.Bindings;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.State;
using Axentra.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace Axentra.Audit.Tests.Apis;

/// <summary>The ops read API of the distributed service, over the S3 binding and the DynamoDB-like registry of the stand-in.</summary>
public sealed class AuditApiTests : IAsyncLifetime
{
    private const string Store = "223e4567-e89b-12d3-a456-426614174000";
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
    public async Task An_events_raw_payload_is_served_byte_for_byte_as_json_and_never_cached()
    {
        var envelope = await AuditAsync(Envelopes.For("{ \"b\":2,\n \"a\" : \"caf\u00e9\" }\n", EventTypes.ProductUpdate));

        using var response = await _client.GetAsync($"/audit/events/{envelope.EventId}", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
        Assert.Equal(envelope.Payload, await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_store_creates_metadata_file_is_served_and_other_events_have_none()
    {
        var store = await AuditAsync(Envelopes.For("""{"store_domain":"a.myshopify.com"}""", EventTypes.StoreCreate));
        var product = await AuditAsync(Envelopes.For("""{"a":1}""", EventTypes.ProductCreate));

        Assert.Equal(
            """{"metadataAttributes":{"store":"a.myshopify.com","store_id":"223e4567-e89b-12d3-a456-426614174000"}}""",
            await _client.GetStringAsync($"/audit/events/{store.EventId}/metadata", TestContext.Current.CancellationToken));
        await AssertProblemAsync($"/audit/events/{product.EventId}/metadata", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Unknown_and_not_yet_audited_events_are_404_problems()
    {
        await AssertProblemAsync("/audit/events/0000000000000000-1", HttpStatusCode.NotFound);

        var registeredOnly = Envelopes.For("""{"a":3}""", EventTypes.ProductCreate);
        await RegisterAsync(registeredOnly);
        await AssertProblemAsync($"/audit/events/{registeredOnly.EventId}", HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("/audit/events/a%2Fb")]
    [InlineData("/audit/events/%2E%2E%2Fsecret")]
    [InlineData("/audit/events/e%20vil")]
    [InlineData("/audit/events/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("/audit/events/a%2Fb/metadata")]
    [InlineData("/audit/stores/..%2Fx/events/product_create")]
    [InlineData("/audit/stores/s1/events/product_created")]
    [InlineData("/audit/stores/s1/events/product_create?from=2025-13-01")]
    [InlineData("/audit/stores/s1/events/product_create?to=09/12/2025")]
    [InlineData("/audit/stores/s1/events/product_create?from=2025-12-10&to=2025-12-09")]
    [InlineData("/audit/stores/s1/events/product_create?page_size=0")]
    [InlineData("/audit/stores/s1/events/product_create?page_size=1001")]
    [InlineData("/audit/stores/s1/events/product_create?page_size=ten")]
    [InlineData("/audit/stores/s1/events/product_create?continuation_token=s2/product_create/2025/12/09/a.json")]
    public async Task Bad_path_and_query_parameters_are_400_problems(string url)
    {
        await AssertProblemAsync(url, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_stores_events_of_one_type_are_listed_by_UTC_day_range_a_page_at_a_time()
    {
        var bucket = _factory.Services.GetRequiredService<IObjectBuckets>().Open(PlatformNames.Buckets.RawAudit);
        var days = new[] { "2025-12-08T23:59:59.999Z", "2025-12-09T00:00:00Z", "2025-12-09T13:00:00Z", "2025-12-10T23:59:59Z", "2025-12-11T00:00:00Z" };
        var inRange = new List<string>();
        foreach (var (day, i) in days.Select((d, i) => (d, i)))
        {
            var at = DateTimeOffset.Parse(day, System.Globalization.CultureInfo.InvariantCulture);
            var envelope = Envelopes.For($$"""{"n":{{i}}}""", EventTypes.StoreCreate, receivedAt: at);
            await bucket.PutAsync(envelope.S3Key, envelope.Payload, TestContext.Current.CancellationToken);
            await bucket.PutAsync(StorageKeys.RawAuditMetadata(envelope.S3Key), "{}"u8.ToArray(), TestContext.Current.CancellationToken);
            if (i is >= 1 and <= 3)
            {
                inRange.Add(envelope.EventId);
            }
        }

        var other = Envelopes.For("""{"n":9}""", EventTypes.StoreUpdate, receivedAt: Envelopes.Noon);
        await bucket.PutAsync(other.S3Key, other.Payload, TestContext.Current.CancellationToken);

        var first = await ListAsync($"/audit/stores/{Store}/events/store_create?from=2025-12-09&to=2025-12-10&page_size=2");
        Assert.Equal(2, first.GetProperty("events").GetArrayLength());
        var token = first.GetProperty("continuation_token").GetString()!;
        var second = await ListAsync($"/audit/stores/{Store}/events/store_create?from=2025-12-09&to=2025-12-10&page_size=2&continuation_token={Uri.EscapeDataString(token)}");

        var listed = first.GetProperty("events").EnumerateArray().Concat(second.GetProperty("events").EnumerateArray()).ToList();
        Assert.Equal(inRange.Order(StringComparer.Ordinal), listed.Select(e => e.GetProperty("event_id").GetString()!).Order(StringComparer.Ordinal));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("continuation_token").ValueKind);
        Assert.Equal(["2025-12-09", "2025-12-09", "2025-12-10"], listed.Select(e => e.GetProperty("received_on").GetString()));
        Assert.All(listed, e => Assert.StartsWith($"{Store}/store_create/2025/12/", e.GetProperty("s3_key").GetString(), StringComparison.Ordinal));

        var everything = await ListAsync($"/audit/stores/{Store}/events/store_create");
        Assert.Equal(5, everything.GetProperty("events").GetArrayLength());
    }

    private async Task<JsonElement> ListAsync(string url)
    {
        using var response = await _client.GetAsync(url, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.Clone();
    }

    private async Task AssertProblemAsync(string url, HttpStatusCode status)
    {
        using var response = await _client.GetAsync(url, TestContext.Current.CancellationToken);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    private Task RegisterAsync(WebhookEnvelope envelope) => Envelopes.RegisterAsync(_factory.Services.GetRequiredService<IStateStore>(), envelope);

    /// <summary>Registers the event as intake does and delivers it to the service's own subscriber.</summary>
    private async Task<WebhookEnvelope> AuditAsync(WebhookEnvelope envelope)
    {
        await RegisterAsync(envelope);
        var writer = _factory.Services.GetServices<IMessageHandler>().Single(h => h.Subscriber == PlatformNames.AppIds.Audit);
        Assert.Equal(DeliveryOutcome.Success, await writer.HandleAsync(Envelopes.Serialize(envelope), new DeliveryContext("m", 1), TestContext.Current.CancellationToken));
        return envelope;
    }
}
