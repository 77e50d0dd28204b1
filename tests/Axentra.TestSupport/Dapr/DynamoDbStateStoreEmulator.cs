using System.Globalization;
using System.Security.Cryptography;
using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Grpc.Core;

namespace Axentra.TestSupport.Dapr;

/// <summary>Error texts as the Dapr runtime and the AWS SDK for Go v2 compose them.</summary>
public static class DynamoDbMessages
{
    /// <summary>dapr/dapr pkg/messages/predefined.go <c>ErrStateSave</c>.</summary>
    public static string SaveFailed(string storeName, string storeError) => $"failed saving state in state store {storeName}: {storeError}";

    /// <summary>dapr/dapr pkg/messages/predefined.go <c>ErrStateDelete</c>.</summary>
    public static string DeleteFailed(string key, string storeError) => $"failed deleting state with key {key}: {storeError}";

    /// <summary>components-contrib state/errors.go: the prefix of an <c>ETagError</c> of kind mismatch.</summary>
    public static string EtagMismatch(string storeError) => $"possible etag mismatch. error from state store: {storeError}";

    /// <summary>The smithy-go operation error for a failed <c>ConditionExpression</c> on PutItem.</summary>
    public static string PutItemConditionFailed() => AwsError("PutItem", "ConditionalCheckFailedException: The conditional request failed");

    public static string DeleteItemConditionFailed() => AwsError("DeleteItem", "ConditionalCheckFailedException: The conditional request failed");

    public static string TransactionCanceled(string reasons) =>
        AwsError("TransactWriteItems", $"TransactionCanceledException: Transaction cancelled, please refer cancellation reasons for specific reasons [{reasons}]");

    private static string AwsError(string operation, string apiError) =>
        $"operation error DynamoDB: {operation}, https response error StatusCode: 400, RequestID: {Guid.NewGuid().ToString("N").ToUpperInvariant()[..26]}, {apiError}";
}

/// <summary>
/// components-contrib <c>state/aws/dynamodb</c> behind the Dapr runtime's state API (<c>pkg/api/grpc/grpc.go</c>):
/// <list type="bullet">
/// <item>ETags are random uint64s in hex, new on every write;</item>
/// <item>a write or delete carrying a non-empty ETag is conditional on <c>etag = :etag</c>; its failure is an ETagError
/// (mismatch), which the runtime answers with <c>Aborted</c>;</item>
/// <item>a first-write without ETag is conditional on <c>attribute_not_exists(etag)</c>, but its failure is NOT wrapped,
/// so the runtime answers <c>Internal</c> with the raw ConditionalCheckFailedException text;</item>
/// <item><c>ttlInSeconds</c> becomes an epoch-seconds attribute; Get hides expired items, but DynamoDB deletes them
/// lazily, so until then they still exist for condition expressions (see <see cref="SweepExpired"/>);</item>
/// <item>a missing key reads as empty data and empty ETag; deleting a missing key without ETag succeeds;</item>
/// <item>transactions drop all but the last operation per key, and their deletes ignore ETags.</item>
/// </list>
/// </summary>
internal sealed class DynamoDbStateStoreEmulator(string storeName, TimeProvider timeProvider)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Item> _items = new(StringComparer.Ordinal);

    public string Name => storeName;

    public IReadOnlyCollection<string> Keys
    {
        get
        {
            lock (_lock)
            {
                return [.. _items.Keys];
            }
        }
    }

    public GetStateResponse Get(string key)
    {
        lock (_lock)
        {
            if (!_items.TryGetValue(key, out var item) || IsExpired(item))
            {
                return new GetStateResponse();
            }

            var response = new GetStateResponse { Data = item.Value, Etag = item.ETag };
            if (item.ExpiresAtEpochSeconds is { } ttl)
            {
                response.Metadata["ttlExpireTime"] = DateTimeOffset.FromUnixTimeSeconds(ttl).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            }

            return response;
        }
    }

    public void Set(string key, StateItem state)
    {
        var item = CreateItem(state);
        lock (_lock)
        {
            CheckPutCondition(key, state);
            _items[key] = item;
        }
    }

    public void Delete(string key, Etag? etag)
    {
        lock (_lock)
        {
            if (!string.IsNullOrEmpty(etag?.Value))
            {
                if (!_items.TryGetValue(key, out var item) || item.ETag != etag.Value)
                {
                    throw new RpcException(new Status(StatusCode.Aborted, DynamoDbMessages.DeleteFailed(
                        key, DynamoDbMessages.EtagMismatch(DynamoDbMessages.DeleteItemConditionFailed()))));
                }
            }

            _items.Remove(key);
        }
    }

    public void Transact(IReadOnlyList<(string Key, TransactionalStateOperation Operation)> operations)
    {
        if (operations.Count > 100)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"the transaction contains {operations.Count} operations, which is more than what the state store supports: 100"));
        }

        // dynamodb.go Multi: the last operation on a key wins; the others are dropped before TransactWriteItems.
        var last = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < operations.Count; i++)
        {
            last[operations[i].Key] = i;
        }

        var kept = operations.Where((op, i) => last[op.Key] == i).ToList();
        lock (_lock)
        {
            var reasons = kept.Select(op => op.Operation.OperationType == "upsert" && !PutConditionHolds(op.Key, op.Operation.Request) ? "ConditionalCheckFailed" : "None").ToList();
            if (reasons.Contains("ConditionalCheckFailed"))
            {
                throw new RpcException(new Status(StatusCode.Internal,
                    $"error while executing state transaction: {DynamoDbMessages.TransactionCanceled(string.Join(", ", reasons))}"));
            }

            foreach (var (key, operation) in kept)
            {
                if (operation.OperationType == "upsert")
                {
                    _items[key] = CreateItem(operation.Request);
                }
                else
                {
                    _items.Remove(key); // no ConditionExpression on transactional deletes, ETag or not
                }
            }
        }
    }

    /// <summary>What DynamoDB's background TTL deletion eventually does (typically within days).</summary>
    public int SweepExpired()
    {
        lock (_lock)
        {
            var expired = _items.Where(kv => IsExpired(kv.Value)).Select(kv => kv.Key).ToList();
            expired.ForEach(key => _items.Remove(key));
            return expired.Count;
        }
    }

    private void CheckPutCondition(string key, StateItem state)
    {
        if (PutConditionHolds(key, state))
        {
            return;
        }

        var awsError = DynamoDbMessages.PutItemConditionFailed();
        throw HasETag(state)
            ? new RpcException(new Status(StatusCode.Aborted, DynamoDbMessages.SaveFailed(storeName, DynamoDbMessages.EtagMismatch(awsError))))
            : new RpcException(new Status(StatusCode.Internal, DynamoDbMessages.SaveFailed(storeName, awsError)));
    }

    private bool PutConditionHolds(string key, StateItem state)
    {
        _items.TryGetValue(key, out var existing);
        if (HasETag(state))
        {
            return existing is not null && existing.ETag == state.Etag.Value; // expired-but-present items still match
        }

        var firstWrite = state.Options?.Concurrency == StateOptions.Types.StateConcurrency.ConcurrencyFirstWrite;
        return !firstWrite || existing is null; // attribute_not_exists(etag) sees items TTL has not deleted yet
    }

    private Item CreateItem(StateItem state)
    {
        long? expiresAt = null;
        if (state.Metadata.TryGetValue("ttlInSeconds", out var ttlText) && ttlText.Length > 0)
        {
            if (!long.TryParse(ttlText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds))
            {
                throw new RpcException(new Status(StatusCode.Internal, DynamoDbMessages.SaveFailed(storeName,
                    $"dynamodb error: failed to parse ttlInSeconds: strconv.ParseInt: parsing \"{ttlText}\": invalid syntax")));
            }

            expiresAt = timeProvider.GetUtcNow().ToUnixTimeSeconds() + seconds;
        }

        var etag = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)).ToString("x", CultureInfo.InvariantCulture);
        return new Item(ByteString.CopyFrom(state.Value.Span), etag, expiresAt);
    }

    private static bool HasETag(StateItem state) => !string.IsNullOrEmpty(state.Etag?.Value);

    private bool IsExpired(Item item) =>
        item.ExpiresAtEpochSeconds is { } ttl && ttl <= timeProvider.GetUtcNow().ToUnixTimeSeconds();

    private sealed record Item(ByteString Value, string ETag, long? ExpiresAtEpochSeconds);
}
