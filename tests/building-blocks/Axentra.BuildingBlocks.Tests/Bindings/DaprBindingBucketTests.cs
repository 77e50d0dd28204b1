using System.Text;
using System.Text.Json;
using Axentra.BuildingBlocks.Bindings;
using Axentra.BuildingBlocks.Dapr;
using Axentra.TestSupport.Dapr;
using Dapr.Client;
using Grpc.Core;

namespace Axentra.BuildingBlocks.Tests.Bindings;

/// <summary>The bucket contract through a real DaprClient to a sidecar with a bindings.aws.s3 component.</summary>
public sealed class DaprS3BucketTests : DaprBindingBucketTests
{
    public DaprS3BucketTests()
        : base(StandInBindingType.AwsS3, BucketBindingType.AwsS3)
    {
    }

    [Fact]
    public async Task Content_goes_out_as_a_quoted_base64_string_with_decodeBase64_and_comes_back_raw()
    {
        await Bucket.PutAsync("s1/e1.json", "\"hello\""u8.ToArray(), Ct);
        await Bucket.GetAsync("s1/e1.json", Ct);

        var create = Sidecar.BindingInvocations.Single(i => i.Operation == "create");
        Assert.Equal("\"ImhlbGxvIg==\"", Encoding.ASCII.GetString(create.Data));
        Assert.Equal("s1/e1.json", create.Metadata["key"]);
        Assert.Equal("true", create.Metadata["decodeBase64"]);
        Assert.Equal("application/json", create.Metadata["Content-Type"]);
        Assert.Equal("false", Sidecar.BindingInvocations.Single(i => i.Operation == "get").Metadata["encodeBase64"]);
    }

    [Fact]
    public async Task Only_a_json_key_is_stored_with_the_json_content_type()
    {
        await Bucket.PutAsync("s1/notes.txt", "plain"u8.ToArray(), Ct);

        Assert.False(Sidecar.BindingInvocations.Single(i => i.Operation == "create").Metadata.ContainsKey("Content-Type"));
    }

    [Fact]
    public async Task A_page_size_above_the_S3_limit_of_1000_still_pages_through_everything()
    {
        var keys = Enumerable.Range(0, 1003).Select(i => $"stores/s1/products/p{i:D4}.json").ToList();
        foreach (var key in keys)
        {
            await Bucket.PutAsync(key, "{}"u8.ToArray(), Ct);
        }

        var first = await Bucket.ListAsync("stores/s1/", null, 5000, Ct);

        Assert.Equal(1000, first.Keys.Count);
        Assert.Equal(keys[999], first.ContinuationToken);
        Assert.Equal(keys, await ListAllAsync("stores/s1/", pageSize: 5000));
    }

    [Fact]
    public async Task The_binding_answers_list_with_the_AWS_SDK_ListObjectsOutput()
    {
        await Bucket.PutAsync("a/1.json", "{}"u8.ToArray(), Ct);
        await Bucket.PutAsync("a/2.json", "{}"u8.ToArray(), Ct);

        var response = await Sidecar.Client.InvokeBindingAsync(
            new BindingRequest(Binding, "list") { Data = """{"maxResults":1,"prefix":"a/","marker":""}"""u8.ToArray() }, Ct);

        using var json = JsonDocument.Parse(response.Data);
        Assert.True(json.RootElement.GetProperty("IsTruncated").GetBoolean());
        Assert.Equal("a/1.json", json.RootElement.GetProperty("Contents")[0].GetProperty("Key").GetString());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("NextMarker").ValueKind); // only with a delimiter
    }
}

/// <summary>The bucket contract through a real DaprClient to a sidecar with a bindings.localstorage component.</summary>
public sealed class DaprLocalStorageBucketTests : DaprBindingBucketTests
{
    public DaprLocalStorageBucketTests()
        : base(StandInBindingType.LocalStorage, BucketBindingType.LocalStorage)
    {
    }

    [Fact]
    public async Task Content_goes_out_as_bare_base64_under_fileName()
    {
        await Bucket.PutAsync("s1/e1.json", "\"abcd\""u8.ToArray(), Ct);

        var create = Sidecar.BindingInvocations.Single(i => i.Operation == "create");
        Assert.Equal("ImFiY2Qi", Encoding.ASCII.GetString(create.Data));
        Assert.Equal("s1/e1.json", create.Metadata["fileName"]);
    }

    [Fact]
    public async Task The_binding_lists_absolute_paths_which_come_back_as_keys()
    {
        await Bucket.PutAsync("stores/s1/products/p1.json", "{}"u8.ToArray(), Ct);

        var raw = await Sidecar.Client.InvokeBindingAsync(new BindingRequest(Binding, "list"), Ct);
        var page = await Bucket.ListAsync("stores/", null, 10, Ct);

        Assert.Equal([$"{Sidecar.LocalStorageRoot(Binding)}/stores/s1/products/p1.json"], JsonSerializer.Deserialize<string[]>(raw.Data.Span)!);
        Assert.Equal(["stores/s1/products/p1.json"], page.Keys);
    }

    [Fact]
    public async Task The_root_path_is_learnt_once_per_bucket()
    {
        await Bucket.PutAsync("stores/s1/products/p1.json", "{}"u8.ToArray(), Ct);

        await Bucket.ListAsync("stores/", null, 10, Ct);
        await Bucket.ListAsync("stores/s1/", null, 10, Ct);
        await Bucket.ListAsync("master/", null, 10, Ct);

        Assert.Single(Sidecar.BindingInvocations, i => i.Operation == "get");
    }
}

/// <summary>Bucket behaviour shared by both Dapr bindings: the contract, plus failures that must not look like absence.</summary>
public abstract class DaprBindingBucketTests(StandInBindingType standInType, BucketBindingType adapterType) : ObjectBucketContract
{
    protected const string Binding = "raw-audit-bucket";

    protected DaprSidecarStandIn Sidecar { get; private set; } = null!;

    protected override async ValueTask<IObjectBucket> CreateBucketAsync()
    {
        Sidecar = await DaprSidecarStandIn.StartAsync(new DaprSidecarStandInOptions
        {
            Bindings = new Dictionary<string, StandInBindingType> { [Binding] = standInType },
        }, Ct);
        return new DaprObjectBuckets(Sidecar.Client, new Dictionary<string, (string, BucketBindingType)>
        {
            ["axentra-webhook-raw-audit"] = (Binding, adapterType),
        }).Open("axentra-webhook-raw-audit");
    }

    protected override async ValueTask DisposeCoreAsync()
    {
        await Sidecar.DisposeAsync();
        await base.DisposeCoreAsync();
    }

    [Theory]
    [InlineData(StatusCode.Unavailable, "connection refused")]
    [InlineData(StatusCode.DeadlineExceeded, "context deadline exceeded")]
    [InlineData(StatusCode.Internal, "error invoking output binding raw-audit-bucket: s3 binding error: error downloading S3 object: AccessDenied")]
    [InlineData(StatusCode.Internal, "error invoking output binding raw-audit-bucket: NoSuchBucket: The specified bucket does not exist")]
    public async Task A_failed_get_is_a_backend_outage_never_a_missing_object(StatusCode code, string message)
    {
        await Bucket.PutAsync("s1/e1.json", "{}"u8.ToArray(), Ct);
        Sidecar.Faults.FailNext(DaprMethods.InvokeBinding, code, message: message);

        await Assert.ThrowsAsync<BackendUnavailableException>(async () => await Bucket.GetAsync("s1/e1.json", Ct));
    }

    [Fact]
    public async Task A_failed_put_list_or_delete_is_a_backend_outage()
    {
        Sidecar.Faults.FailNext(DaprMethods.InvokeBinding, StatusCode.Unavailable, times: 3);

        await Assert.ThrowsAsync<BackendUnavailableException>(async () => await Bucket.PutAsync("s1/e1.json", "{}"u8.ToArray(), Ct));
        await Assert.ThrowsAsync<BackendUnavailableException>(async () => await Bucket.DeleteAsync("s1/e1.json", Ct));
        await Assert.ThrowsAsync<BackendUnavailableException>(async () => await Bucket.ListAsync("s1/", null, 10, Ct));
    }

    [Fact]
    public async Task A_bucket_whose_binding_is_not_loaded_is_a_backend_outage()
    {
        var misconfigured = new DaprObjectBuckets(Sidecar.Client, new Dictionary<string, (string, BucketBindingType)>
        {
            ["axentra-webhook-processed"] = ("no-such-binding", adapterType),
        }).Open("axentra-webhook-processed");

        await Assert.ThrowsAsync<BackendUnavailableException>(async () => await misconfigured.GetAsync("master/products/p1.json", Ct));
    }
}
