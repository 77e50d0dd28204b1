using System.Text;
using Axentra.Audit.Tests.Support;
using Axentra.BuildingBlocks.Dapr;
using Axentra.BuildingBlocks.PubSub;
using Axentra.Contracts;
using Axentra.TestSupport.Dapr;
using Grpc.Core;

namespace Axentra.Audit.Tests.Dapr;

/// <summary>
/// The writer on the distributed adapters, against the in-process sidecar stand-in that speaks Dapr's real gRPC
/// proto and behaves like bindings.aws.s3 / bindings.localstorage and state.aws.dynamodb.
/// </summary>
public sealed class DaprBindingAuditTests : IAsyncDisposable
{
    private DaprSidecarStandIn? _sidecar;
    private AuditRig? _rig;

    public static TheoryData<BucketBindingType> BindingTypes => [BucketBindingType.AwsS3, BucketBindingType.LocalStorage];

    /// <summary>Payloads a binding would alter if they were sent as they are (JSON strings, base64-looking text, long numbers).</summary>
    public static TheoryData<BucketBindingType, string> TrickyPayloads
    {
        get
        {
            var data = new TheoryData<BucketBindingType, string>();
            foreach (var type in new[] { BucketBindingType.AwsS3, BucketBindingType.LocalStorage })
            {
                data.Add(type, "{ \"name\" : \"Vitamin D3 – 5000 IU\",\n  \"price\": 19.990 }\n");
                data.Add(type, "\"aGVsbG8=\"");
                data.Add(type, "QUJD");
                data.Add(type, """{"n":123456789012345678901234567890}""");
                data.Add(type, "null");
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(TrickyPayloads))]
    public async Task The_payload_reaches_the_bucket_byte_for_byte(BucketBindingType type, string payload)
    {
        var rig = await StartAsync(type);
        var envelope = Envelopes.For(Encoding.UTF8.GetBytes(payload), EventTypes.Unknown);

        Assert.Equal(DeliveryOutcome.Success, await rig.DeliverAsync(envelope));

        Assert.Equal(envelope.Payload, await rig.Bucket.GetAsync(envelope.S3Key, TestContext.Current.CancellationToken));
    }

    [Theory]
    [MemberData(nameof(BindingTypes))]
    public async Task The_key_travels_in_each_bindings_own_metadata_field(BucketBindingType type)
    {
        var rig = await StartAsync(type);
        var envelope = Envelopes.For("""{"store_domain":"a.myshopify.com"}""", EventTypes.StoreCreate);

        Assert.Equal(DeliveryOutcome.Success, await rig.DeliverAsync(envelope));

        var creates = _sidecar!.BindingInvocations.Where(i => i.Operation == "create").ToList();
        var (keyField, otherField) = type == BucketBindingType.AwsS3 ? ("key", "fileName") : ("fileName", "key");
        Assert.Equal([envelope.S3Key, StorageKeys.RawAuditMetadata(envelope.S3Key)], creates.Select(c => c.Metadata[keyField]));
        Assert.All(creates, c => Assert.False(c.Metadata.ContainsKey(otherField)));
        Assert.All(creates, c => Assert.Equal(PlatformNames.Components.RawAuditBucketBinding, c.BindingName));
        Assert.Equal(
            """{"metadataAttributes":{"store":"a.myshopify.com","store_id":"223e4567-e89b-12d3-a456-426614174000"}}""",
            Encoding.UTF8.GetString((await rig.Bucket.GetAsync(StorageKeys.RawAuditMetadata(envelope.S3Key), TestContext.Current.CancellationToken))!));
        var audited = await rig.StageAsync(envelope.EventId, Stages.Audited);
        Assert.Equal(envelope.S3Key, audited!.S3Key);
    }

    [Theory]
    [MemberData(nameof(BindingTypes))]
    public async Task A_redelivery_reads_and_writes_nothing_new(BucketBindingType type)
    {
        var rig = await StartAsync(type);
        var envelope = Envelopes.For("""{"a":1}""", EventTypes.ProductUpdate);
        Assert.Equal(DeliveryOutcome.Success, await rig.DeliverAsync(envelope));

        Assert.Equal(DeliveryOutcome.Success, await rig.DeliverAsync(envelope, attempt: 2));

        Assert.Single(_sidecar!.BindingInvocations, i => i.Operation == "create");
        Assert.DoesNotContain(_sidecar.BindingInvocations, i => i.Operation == "delete");
        Assert.Equal(1, rig.Metrics["axentra.audit.duplicates"]);
    }

    [Theory]
    [MemberData(nameof(BindingTypes))]
    public async Task Conflicting_bytes_are_never_written_over(BucketBindingType type)
    {
        var rig = await StartAsync(type);
        var envelope = Envelopes.For("""{"price":19.99}""", EventTypes.ProductUpdate);
        await rig.Bucket.PutAsync(envelope.S3Key, Encoding.UTF8.GetBytes("""{"price":1}"""), TestContext.Current.CancellationToken);
        var createsBefore = _sidecar!.BindingInvocations.Count(i => i.Operation == "create");

        Assert.Equal(DeliveryOutcome.Drop, await rig.DeliverAsync(envelope));

        Assert.Equal(createsBefore, _sidecar.BindingInvocations.Count(i => i.Operation == "create"));
        Assert.Equal("""{"price":1}""", Encoding.UTF8.GetString((await rig.Bucket.GetAsync(envelope.S3Key, TestContext.Current.CancellationToken))!));
        Assert.Equal(1, rig.Metrics["axentra.audit.conflicts"]);
        Assert.NotNull(await rig.DeadLetterAsync(envelope.EventId));
    }

    [Theory]
    [InlineData(BucketBindingType.AwsS3, StatusCode.Internal, "error invoking output binding raw-audit-bucket: operation error S3: PutObject, https response error StatusCode: 503")]
    [InlineData(BucketBindingType.AwsS3, StatusCode.DeadlineExceeded, null)]
    [InlineData(BucketBindingType.LocalStorage, StatusCode.Unavailable, null)]
    public async Task A_failing_binding_is_retried_and_the_retry_audits_the_event(BucketBindingType type, StatusCode status, string? message)
    {
        var rig = await StartAsync(type);
        var envelope = Envelopes.For("""{"a":1}""", EventTypes.ProductCreate);
        _sidecar!.Faults.FailNext(DaprMethods.InvokeBinding, status, times: 2, message: message);

        Assert.Equal(DeliveryOutcome.Retry, await rig.DeliverAsync(envelope, attempt: 1));
        Assert.Equal(DeliveryOutcome.Retry, await rig.DeliverAsync(envelope, attempt: 2));
        Assert.Null(await rig.StageAsync(envelope.EventId, Stages.Audited));

        Assert.Equal(DeliveryOutcome.Success, await rig.DeliverAsync(envelope, attempt: 3));
        Assert.Equal(envelope.Payload, await rig.Bucket.GetAsync(envelope.S3Key, TestContext.Current.CancellationToken));
        Assert.Equal(2, rig.Metrics["axentra.audit.failures"]);
    }

    [Fact]
    public async Task A_registry_that_is_down_after_the_write_is_retried_without_writing_twice()
    {
        var rig = await StartAsync(BucketBindingType.AwsS3);
        var envelope = Envelopes.For("""{"a":1}""", EventTypes.ProductCreate);
        _sidecar!.Faults.FailNext(DaprMethods.SaveState, StatusCode.Unavailable);

        Assert.Equal(DeliveryOutcome.Retry, await rig.DeliverAsync(envelope, attempt: 1));
        Assert.Equal(DeliveryOutcome.Success, await rig.DeliverAsync(envelope, attempt: 2));

        Assert.Single(_sidecar.BindingInvocations, i => i.Operation == "create");
        Assert.NotNull(await rig.StageAsync(envelope.EventId, Stages.Audited));
    }

    private async Task<AuditRig> StartAsync(BucketBindingType type)
    {
        _sidecar = await DaprSidecarStandIn.StartAsync(new DaprSidecarStandInOptions
        {
            AppId = PlatformNames.AppIds.Audit,
            StateStores = [PlatformNames.Components.RegistryStateStore],
            PubSubs = [PlatformNames.Components.PubSub],
            Bindings = new Dictionary<string, StandInBindingType>
            {
                [PlatformNames.Components.RawAuditBucketBinding] = type == BucketBindingType.AwsS3 ? StandInBindingType.AwsS3 : StandInBindingType.LocalStorage,
            },
        }, TestContext.Current.CancellationToken);
        var buckets = new DaprObjectBuckets(_sidecar.Client, new Dictionary<string, (string, BucketBindingType)>
        {
            [PlatformNames.Buckets.RawAudit] = (PlatformNames.Components.RawAuditBucketBinding, type),
        });
        _rig = AuditRig.Over(buckets, new DaprStateStore(_sidecar.Client, PlatformNames.Components.RegistryStateStore));
        return _rig;
    }

    public async ValueTask DisposeAsync()
    {
        if (_rig is not null)
        {
            await _rig.DisposeAsync();
        }

        if (_sidecar is not null)
        {
            await _sidecar.DisposeAsync();
        }
    }
}
