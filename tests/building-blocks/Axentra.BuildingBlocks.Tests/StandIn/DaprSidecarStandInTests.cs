using System.Text;
using Axentra.TestSupport.Dapr;
using Dapr;
using Dapr.Client;
using Grpc.Core;

namespace Axentra.BuildingBlocks.Tests.StandIn;

/// <summary>
/// The stand-in's own fidelity where adapters do not reach yet: what a real sidecar with these components answers.
/// </summary>
public sealed class DaprSidecarStandInTests : IAsyncLifetime
{
    private DaprSidecarStandIn _sidecar = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _sidecar = await DaprSidecarStandIn.StartAsync(new DaprSidecarStandInOptions
        {
            AppId = "intake",
            StateStores = ["registry"],
            PubSubs = ["pubsub"],
            Bindings = new Dictionary<string, StandInBindingType> { ["raw"] = StandInBindingType.AwsS3, ["local"] = StandInBindingType.LocalStorage },
        }, Ct);

    public async ValueTask DisposeAsync() => await _sidecar.DisposeAsync();

    [Fact]
    public async Task Metadata_lists_the_loaded_components_with_their_types()
    {
        var metadata = await _sidecar.Client.GetMetadataAsync(Ct);

        Assert.Equal("intake", metadata.Id);
        Assert.Equal(
            ["local:bindings.localstorage", "pubsub:pubsub.aws.snssqs", "raw:bindings.aws.s3", "registry:state.aws.dynamodb"],
            metadata.Components.Select(c => $"{c.Name}:{c.Type}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_transaction_applies_its_upserts_and_deletes_together()
    {
        await _sidecar.Client.SaveStateAsync("registry", "old", "x", cancellationToken: Ct);

        await _sidecar.Client.ExecuteStateTransactionAsync("registry",
        [
            new StateTransactionRequest("new", Encoding.UTF8.GetBytes("\"n\""), StateOperationType.Upsert),
            new StateTransactionRequest("old", null, StateOperationType.Delete),
        ], cancellationToken: Ct);

        Assert.Equal(["intake||new"], _sidecar.StoredStateKeys("registry"));
    }

    [Fact]
    public async Task A_transactional_first_write_of_an_existing_key_fails_the_whole_transaction_as_Internal()
    {
        await _sidecar.Client.SaveStateAsync("registry", "taken", "x", cancellationToken: Ct);

        var error = await Assert.ThrowsAsync<DaprException>(() => _sidecar.Client.ExecuteStateTransactionAsync("registry",
        [
            new StateTransactionRequest("fresh", "1"u8.ToArray(), StateOperationType.Upsert),
            new StateTransactionRequest("taken", "2"u8.ToArray(), StateOperationType.Upsert, options: new StateOptions { Concurrency = ConcurrencyMode.FirstWrite }),
        ], cancellationToken: Ct));

        Assert.Equal(StatusCode.Internal, ((RpcException)error.InnerException!).StatusCode);
        Assert.DoesNotContain("intake||fresh", _sidecar.StoredStateKeys("registry"));
    }

    [Fact]
    public async Task An_operation_the_binding_does_not_have_is_refused_like_the_runtime_refuses_it()
    {
        var error = await Assert.ThrowsAsync<DaprException>(() => _sidecar.Client.InvokeBindingAsync(new BindingRequest("local", "presign"), Ct));

        Assert.Equal(
            "error invoking output binding local: binding local does not support operation presign. supported operations:create get list delete",
            ((RpcException)error.InnerException!).Status.Detail);
    }

    [Fact]
    public async Task S3_create_unquotes_data_the_way_utils_Unquote_does()
    {
        foreach (var (sent, stored) in new[] { ("\"hello\"", "hello"), ("null", ""), ("1.0", "1"), ("1e21", "1000000000000000000000"), ("{\"a\":1}", "{\"a\":1}") })
        {
            var request = new BindingRequest("raw", "create") { Data = Encoding.UTF8.GetBytes(sent) };
            request.Metadata["key"] = "k";
            await _sidecar.Client.InvokeBindingAsync(request, Ct);

            var get = new BindingRequest("raw", "get");
            get.Metadata["key"] = "k";
            Assert.Equal(stored, Encoding.UTF8.GetString((await _sidecar.Client.InvokeBindingAsync(get, Ct)).Data.Span));
        }
    }

    [Fact]
    public async Task Localstorage_create_decodes_anything_that_looks_like_base64()
    {
        var request = new BindingRequest("local", "create") { Data = "\"abcd\""u8.ToArray() };
        request.Metadata["fileName"] = "f.json";
        await _sidecar.Client.InvokeBindingAsync(request, Ct);

        var get = new BindingRequest("local", "get");
        get.Metadata["fileName"] = "f.json";
        Assert.Equal(Convert.FromBase64String("abcd"), (await _sidecar.Client.InvokeBindingAsync(get, Ct)).Data.ToArray());
    }

    [Fact]
    public async Task Missing_objects_are_reported_with_each_binding_s_own_text()
    {
        var s3 = new BindingRequest("raw", "get");
        s3.Metadata["key"] = "nope";
        var local = new BindingRequest("local", "get");
        local.Metadata["fileName"] = "nope";

        var s3Error = await Assert.ThrowsAsync<DaprException>(() => _sidecar.Client.InvokeBindingAsync(s3, Ct));
        var localError = await Assert.ThrowsAsync<DaprException>(() => _sidecar.Client.InvokeBindingAsync(local, Ct));

        Assert.Equal("error invoking output binding raw: object not found", ((RpcException)s3Error.InnerException!).Status.Detail);
        Assert.Equal($"error invoking output binding local: file not found: {_sidecar.LocalStorageRoot("local")}/nope", ((RpcException)localError.InnerException!).Status.Detail);
    }
}
