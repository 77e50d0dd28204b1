using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.Embedded;
using Axentra.Catalog.Tests.Support;
using Axentra.Catalog.Validation;
using Axentra.Contracts;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Axentra.Catalog.Tests.Validation;

/// <summary>The DynamoDB adapter for Ben's tables against a real DynamoDB Local (see <see cref="DynamoDbLocalFixture"/>).</summary>
public sealed class DynamoDbSourceOfTruthTests(DynamoDbLocalFixture dynamo) : IClassFixture<DynamoDbLocalFixture>
{
    [Fact]
    public async Task A_store_and_a_product_in_bens_tables_are_found()
    {
        var (truth, http) = await Arrange();
        await Put(DynamoDbLocalFixture.StoresTable, "store_id", "store-found");
        await Put(DynamoDbLocalFixture.ProductsTable, "productId", "product-found");

        Assert.Equal(SourceOfTruthAnswer.Found, await truth.LookupAsync(CatalogEntity.Store, "store-found", CancellationToken.None));
        Assert.Equal(SourceOfTruthAnswer.Found, await truth.LookupAsync(CatalogEntity.Product, "product-found", CancellationToken.None));
        Assert.Equal(SourceOfTruthAnswer.Absent, await truth.LookupAsync(CatalogEntity.Store, "product-found", CancellationToken.None)); // other table
        Assert.All(http.Targets, target => Assert.Equal("DynamoDB_20120810.GetItem", target)); // read only, ever
    }

    [Fact]
    public async Task A_found_answer_is_cached_briefly_and_an_absent_one_is_not()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (truth, http) = await Arrange(time: time);
        await Put(DynamoDbLocalFixture.StoresTable, "store_id", "store-cached");

        await truth.LookupAsync(CatalogEntity.Store, "store-cached", CancellationToken.None);
        await truth.LookupAsync(CatalogEntity.Store, "store-cached", CancellationToken.None);
        Assert.Equal(1, http.Calls);

        await truth.LookupAsync(CatalogEntity.Store, "store-absent", CancellationToken.None);
        await truth.LookupAsync(CatalogEntity.Store, "store-absent", CancellationToken.None);
        Assert.Equal(3, http.Calls);

        time.Advance(TimeSpan.FromMinutes(2));
        await truth.LookupAsync(CatalogEntity.Store, "store-cached", CancellationToken.None);
        Assert.Equal(4, http.Calls);
    }

    [Fact]
    public async Task Throttling_is_retried_with_backoff_until_the_table_answers()
    {
        var (truth, http) = await Arrange(throttles: 2);
        await Put(DynamoDbLocalFixture.StoresTable, "store_id", "store-throttled");

        Assert.Equal(SourceOfTruthAnswer.Found, await truth.LookupAsync(CatalogEntity.Store, "store-throttled", CancellationToken.None));
        Assert.Equal(3, http.Calls);
    }

    [Fact]
    public async Task Throttling_past_the_attempt_budget_is_a_backend_outage_not_an_absence()
    {
        var (truth, http) = await Arrange(throttles: 100, maxAttempts: 2);

        var outage = await Assert.ThrowsAsync<BackendUnavailableException>(
            async () => await truth.LookupAsync(CatalogEntity.Product, "p", CancellationToken.None));
        Assert.Contains(DynamoDbLocalFixture.ProductsTable, outage.Backend, StringComparison.Ordinal);
        Assert.Equal(2, http.Calls);
    }

    [Fact]
    public async Task A_misconfigured_table_name_is_an_outage_not_an_absence()
    {
        var (truth, _) = await Arrange(storesTable: "no-such-table");

        await Assert.ThrowsAsync<BackendUnavailableException>(
            async () => await truth.LookupAsync(CatalogEntity.Store, "s", CancellationToken.None));
    }

    [Fact]
    public async Task Absent_from_bens_table_falls_back_to_our_buckets_then_to_a_warning()
    {
        var (truth, _) = await Arrange();
        var directory = Directory.CreateTempSubdirectory("axentra-catalog-tests-").FullName;
        try
        {
            var buckets = new FileObjectBuckets(directory, fsync: false);
            await buckets.Open(PlatformNames.Buckets.RawAudit).PutAsync("store-known/store_create/2025/12/09/e.metadata.json", "{}"u8.ToArray(), CancellationToken.None);
            var validator = new ExistenceValidator(truth, buckets, Options.Create(new CatalogBucketOptions()), NullLogger<ExistenceValidator>.Instance);

            var fallback = await validator.ValidateAsync(Envelope("store-known"), CancellationToken.None);
            var nowhere = await validator.ValidateAsync(Envelope("store-unknown"), CancellationToken.None);

            Assert.Equal(["store store-known is not in axentra-stores; known from our store_create audit records"], fallback);
            Assert.Equal(["store store-unknown not found in axentra-stores nor in our buckets; processed anyway"], nowhere);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static WebhookEnvelope Envelope(string storeId) => new()
    {
        EventId = "e-1",
        PayloadHash = "h",
        EventType = EventTypes.StoreUpdate,
        StoreId = storeId,
        S3Key = "k",
        ReceivedAt = DateTimeOffset.UtcNow,
        DedupeKey = "d",
        Payload = "{}"u8.ToArray(),
    };

    private async Task<(DynamoDbSourceOfTruth Truth, RecordingHttp Http)> Arrange(
        int throttles = 0, int maxAttempts = 5, string storesTable = DynamoDbLocalFixture.StoresTable, TimeProvider? time = null)
    {
        if (dynamo.SkipReason is not null)
        {
            Assert.Skip(dynamo.SkipReason);
        }

        // A generous timeout: a JVM still warming up on a busy machine must not turn into a retry, which would change the
        // call counts these tests assert.
        var options = new ValidationOptions
        {
            ServiceUrl = dynamo.ServiceUrl,
            StoresTable = storesTable,
            MaxAttempts = maxAttempts,
            RequestTimeout = TimeSpan.FromSeconds(30),
        };
        var http = new RecordingHttp(throttles);
        var client = DynamoDbSourceOfTruth.CreateClient(options, http);
        await Task.CompletedTask;
        return (new DynamoDbSourceOfTruth(client, Options.Create(options), time ?? TimeProvider.System, NullLogger<DynamoDbSourceOfTruth>.Instance), http);
    }

    private async Task Put(string table, string key, string id)
    {
        using var client = dynamo.Client();
        await client.PutItemAsync(new PutItemRequest { TableName = table, Item = new() { [key] = new AttributeValue { S = id } } });
    }

    /// <summary>
    /// The AWS SDK's HTTP boundary: records each request's operation and answers the first
    /// <c>throttles</c> of them the way DynamoDB does when throttling; the rest go to the real server.
    /// </summary>
    private sealed class RecordingHttp(int throttles) : HttpClientFactory
    {
        private int _throttlesLeft = throttles;
        private int _calls;

        public int Calls => _calls;

        public ConcurrentQueue<string> Targets { get; } = new();

        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new Handler(this) { InnerHandler = new HttpClientHandler() });

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

        private sealed class Handler(RecordingHttp owner) : DelegatingHandler
        {
            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                Interlocked.Increment(ref owner._calls);
                owner.Targets.Enqueue(request.Headers.TryGetValues("X-Amz-Target", out var target) ? target.Single() : "?");
                if (Interlocked.Decrement(ref owner._throttlesLeft) >= 0)
                {
                    var response = new HttpResponseMessage(HttpStatusCode.BadRequest)
                    {
                        Content = new StringContent(
                            """{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}""",
                            Encoding.UTF8,
                            "application/x-amz-json-1.0"),
                    };
                    response.Headers.Add("x-amzn-RequestId", Guid.NewGuid().ToString());
                    return response;
                }

                return await base.SendAsync(request, cancellationToken);
            }
        }
    }
}
