using System.Collections.Concurrent;
using System.Net;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Axentra.BuildingBlocks;
using Microsoft.Extensions.Options;

namespace Axentra.Catalog.Validation;

/// <summary>
/// Ben's <c>axentra-stores</c> (key <c>store_id</c>) and <c>Product-…-NONE</c> (key <c>productId</c>) tables read
/// with AWSSDK.DynamoDBv2: a key-only <c>GetItem</c> per lookup, the SDK's standard retry mode (exponential
/// backoff with jitter; throttling such as <c>ProvisionedThroughputExceededException</c> included), a short
/// cache of "found" answers. Only reads: nothing here can write Ben's tables.
/// </summary>
public sealed partial class DynamoDbSourceOfTruth(
    IAmazonDynamoDB client, IOptions<ValidationOptions> options, TimeProvider timeProvider, ILogger<DynamoDbSourceOfTruth> logger) : ISourceOfTruth
{
    private readonly ValidationOptions _options = options.Value;
    private readonly ConcurrentDictionary<(CatalogEntity, string), DateTimeOffset> _found = new();

    public string Describe(CatalogEntity entity) => entity == CatalogEntity.Store ? _options.StoresTable : _options.ProductsTable;

    public async ValueTask<SourceOfTruthAnswer> LookupAsync(CatalogEntity entity, string id, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        if (_found.TryGetValue((entity, id), out var until) && until > now)
        {
            return SourceOfTruthAnswer.Found;
        }

        var (table, keyName) = entity == CatalogEntity.Store ? (_options.StoresTable, _options.StoresKey) : (_options.ProductsTable, _options.ProductsKey);
        var request = new GetItemRequest
        {
            TableName = table,
            Key = new Dictionary<string, AttributeValue> { [keyName] = new() { S = id } },
            ConsistentRead = _options.ConsistentRead,
            ProjectionExpression = "#k",
            ExpressionAttributeNames = new Dictionary<string, string> { ["#k"] = keyName },
        };

        GetItemResponse response;
        try
        {
            response = await client.GetItemAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (ResourceNotFoundException ex)
        {
            // A wrong table name is configuration, not absence: never report every store as missing because of it.
            throw new BackendUnavailableException($"DynamoDB table {table}", "does not exist (check Catalog:Validation)", ex);
        }
        catch (AmazonServiceException ex)
        {
            // Throttling and 5xx were already retried by the SDK; anything else (access denied, validation) is a
            // deployment problem. Either way the event waits (redelivered, then dead-lettered) instead of being
            // recorded with a false "missing" warning.
            LogUnavailable(table, ex.ErrorCode ?? ex.StatusCode.ToString());
            throw new BackendUnavailableException($"DynamoDB table {table}", $"lookup failed after {_options.MaxAttempts} attempts ({ex.ErrorCode})", ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or AmazonClientException or (TaskCanceledException and not OperationCanceledException { CancellationToken.IsCancellationRequested: true }))
        {
            LogUnavailable(table, ex.GetType().Name);
            throw new BackendUnavailableException($"DynamoDB table {table}", "unreachable", ex);
        }

        if (response.Item is { Count: > 0 })
        {
            if (_options.CacheTtl > TimeSpan.Zero)
            {
                if (_found.Count >= _options.CacheCapacity)
                {
                    _found.Clear(); // crude but bounded; the cache only saves reads
                }

                _found[(entity, id)] = now + _options.CacheTtl;
            }

            return SourceOfTruthAnswer.Found;
        }

        return SourceOfTruthAnswer.Absent;
    }

    /// <summary>A client for the configured endpoint; <paramref name="httpClientFactory"/> lets tests sit at the HTTP boundary.</summary>
    public static AmazonDynamoDBClient CreateClient(ValidationOptions options, HttpClientFactory? httpClientFactory = null)
    {
        var config = new AmazonDynamoDBConfig
        {
            RetryMode = RequestRetryMode.Standard,
            MaxErrorRetry = options.MaxAttempts - 1,
            Timeout = options.RequestTimeout,
        };
        if (httpClientFactory is not null)
        {
            config.HttpClientFactory = httpClientFactory;
        }

        if (!string.IsNullOrEmpty(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region ?? "us-east-1";
            if (IsLoopback(options.ServiceUrl))
            {
                // DynamoDB Local accepts any alphanumeric credentials; a developer machine need not have AWS ones.
                return new AmazonDynamoDBClient(new BasicAWSCredentials("dynamodblocal", "dynamodblocal"), config);
            }
        }
        else if (!string.IsNullOrEmpty(options.Region))
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        }

        try
        {
            return new AmazonDynamoDBClient(config);
        }
        catch (AmazonClientException ex) when (config.RegionEndpoint is null && string.IsNullOrEmpty(config.ServiceURL))
        {
            // The SDK found no region in its chain (AWS_REGION, profile, instance metadata): a setting, not a fault.
            throw new OptionsValidationException(ValidationOptions.Section, typeof(ValidationOptions),
                [$"Ben's tables are consulted but no AWS region is known ({ex.Message}): set AWS_REGION or {ValidationOptions.Section}:Region, or {ValidationOptions.Section}:ServiceUrl for DynamoDB Local"]);
        }
    }

    private static bool IsLoopback(string serviceUrl) =>
        Uri.TryCreate(serviceUrl, UriKind.Absolute, out var uri) && (uri.IsLoopback || IPAddress.TryParse(uri.Host, out var ip) && IPAddress.IsLoopback(ip));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ben's table {Table} unavailable after retries ({Error}); the event will be redelivered")]
    private partial void LogUnavailable(string table, string error);
}
