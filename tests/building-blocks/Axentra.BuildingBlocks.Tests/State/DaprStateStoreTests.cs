using Axentra.BuildingBlocks.Dapr;
using Axentra.BuildingBlocks.State;
using Axentra.TestSupport.Dapr;
using Dapr.Client.Autogen.Grpc.v1;
using Grpc.Core;

namespace Axentra.BuildingBlocks.Tests.State;

/// <summary>The state contract through a real DaprClient to a sidecar that answers like state.aws.dynamodb.</summary>
public sealed class DaprStateStoreTests : StateStoreContract
{
    private const string StoreName = "registry-state";
    private DaprSidecarStandIn _sidecar = null!;

    protected override async ValueTask<IStateStore> CreateStoreAsync()
    {
        _sidecar = await DaprSidecarStandIn.StartAsync(new DaprSidecarStandInOptions { StateStores = [StoreName], TimeProvider = Clock }, Ct);
        return new DaprStateStore(_sidecar.Client, StoreName);
    }

    protected override ValueTask RemoveExpiredEntriesAsync()
    {
        _sidecar.SweepExpiredState(StoreName);
        return ValueTask.CompletedTask;
    }

    protected override async ValueTask DisposeCoreAsync()
    {
        await _sidecar.DisposeAsync();
        await base.DisposeCoreAsync();
    }

    private StatusCode LastStatusOf(string method) => _sidecar.Calls.Last(c => c.Method == method).Status;

    [Fact]
    public async Task A_duplicate_first_write_is_a_conflict_although_the_sidecar_answers_Internal()
    {
        await Store.TrySaveAsync("k", Bytes("first"), null, null, Ct);

        var outcome = await Store.TrySaveAsync("k", Bytes("second"), null, null, Ct);

        Assert.Equal(SaveOutcome.Conflict, outcome);
        Assert.Equal(StatusCode.Internal, LastStatusOf(DaprMethods.SaveState));
    }

    [Fact]
    public async Task A_stale_etag_reaches_the_sidecar_as_Aborted_and_is_a_conflict()
    {
        await Store.TrySaveAsync("k", Bytes("v1"), null, null, Ct);
        var stale = (await Store.GetAsync("k", Ct))!.ETag;
        await Store.SaveAsync("k", Bytes("v2"), null, Ct);

        Assert.Equal(SaveOutcome.Conflict, await Store.TrySaveAsync("k", Bytes("v3"), stale, null, Ct));
        Assert.Equal(StatusCode.Aborted, LastStatusOf(DaprMethods.SaveState));
    }

    [Fact]
    public async Task A_first_write_that_committed_before_its_replay_failed_the_condition_is_saved()
    {
        _sidecar.Faults.CommitFirstWriteThenReportConditionFailure(StoreName);

        Assert.Equal(SaveOutcome.Saved, await Store.TrySaveAsync("claim", Bytes("mine"), null, null, Ct));
        Assert.Equal(Bytes("mine"), (await Store.GetAsync("claim", Ct))!.Value.ToArray());
    }

    [Fact]
    public async Task A_write_that_committed_before_a_timeout_is_saved()
    {
        _sidecar.Faults.FailNext(DaprMethods.SaveState, StatusCode.DeadlineExceeded, afterApplying: true);

        Assert.Equal(SaveOutcome.Saved, await Store.TrySaveAsync("claim", Bytes("mine"), null, null, Ct));
    }

    [Fact]
    public async Task An_etag_write_whose_retry_saw_its_own_commit_as_a_mismatch_is_saved()
    {
        await Store.TrySaveAsync("k", Bytes("v1"), null, null, Ct);
        var etag = (await Store.GetAsync("k", Ct))!.ETag;
        _sidecar.Faults.FailNext(DaprMethods.SaveState, StatusCode.Aborted, message: "failed saving state in state store registry-state: possible etag mismatch", afterApplying: true);

        Assert.Equal(SaveOutcome.Saved, await Store.TrySaveAsync("k", Bytes("v2-mine"), etag, null, Ct));
    }

    [Theory]
    [InlineData(StatusCode.Unavailable)]
    [InlineData(StatusCode.Internal)]
    [InlineData(StatusCode.DeadlineExceeded)]
    public async Task A_write_that_did_not_happen_is_a_backend_outage(StatusCode code)
    {
        _sidecar.Faults.FailNext(DaprMethods.SaveState, code);

        await Assert.ThrowsAsync<BackendUnavailableException>(async () => await Store.TrySaveAsync("claim", Bytes("mine"), null, null, Ct));
        Assert.Null(await Store.GetAsync("claim", Ct));
    }

    [Fact]
    public async Task An_etag_write_that_did_not_happen_is_a_backend_outage()
    {
        await Store.TrySaveAsync("k", Bytes("v1"), null, null, Ct);
        var etag = (await Store.GetAsync("k", Ct))!.ETag;
        _sidecar.Faults.FailNext(DaprMethods.SaveState, StatusCode.Unavailable);

        await Assert.ThrowsAsync<BackendUnavailableException>(async () => await Store.TrySaveAsync("k", Bytes("v2"), etag, null, Ct));
        Assert.Equal(etag, (await Store.GetAsync("k", Ct))!.ETag);
    }

    [Fact]
    public async Task A_failed_read_is_a_backend_outage_not_a_missing_key()
    {
        _sidecar.Faults.FailNext(DaprMethods.GetState, StatusCode.Unavailable);

        await Assert.ThrowsAsync<BackendUnavailableException>(async () => await Store.GetAsync("k", Ct));
    }

    [Fact]
    public async Task Unconditional_saves_and_deletes_report_outages()
    {
        _sidecar.Faults.FailNext(DaprMethods.SaveState, StatusCode.Unavailable);
        _sidecar.Faults.FailNext(DaprMethods.DeleteState, StatusCode.Unavailable);

        await Assert.ThrowsAsync<BackendUnavailableException>(async () => await Store.SaveAsync("k", Bytes("v"), null, Ct));
        await Assert.ThrowsAsync<BackendUnavailableException>(async () => await Store.TryDeleteAsync("k", null, Ct));
    }

    [Fact]
    public async Task The_time_to_live_travels_as_whole_seconds_rounded_up()
    {
        await Store.TrySaveAsync("claim", Bytes("c"), null, TimeSpan.FromSeconds(86_399.2), Ct);

        var request = (SaveStateRequest)_sidecar.Calls.Last(c => c.Method == DaprMethods.SaveState).Request;
        Assert.Equal("86400", request.States[0].Metadata["ttlInSeconds"]);
        Assert.Equal(StateOptions.Types.StateConcurrency.ConcurrencyFirstWrite, request.States[0].Options.Concurrency);
    }

    [Fact]
    public async Task An_expired_entry_DynamoDB_has_not_deleted_yet_blocks_a_first_write_as_an_outage_not_a_duplicate()
    {
        await Store.TrySaveAsync("claim", Bytes("old"), null, TimeSpan.FromSeconds(60), Ct);
        Clock.Advance(TimeSpan.FromSeconds(61));

        var error = await Assert.ThrowsAsync<BackendUnavailableException>(async () => await Store.TrySaveAsync("claim", Bytes("new"), null, null, Ct));

        Assert.Contains("expired entry", error.Message, StringComparison.Ordinal);
        Assert.Null(await Store.GetAsync("claim", Ct));
    }

    [Fact]
    public async Task Keys_are_stored_under_the_app_id_prefix_the_runtime_adds()
    {
        await Store.SaveAsync("events/e1", Bytes("r"), null, Ct);

        Assert.Contains("axentra-test||events/e1", _sidecar.StoredStateKeys(StoreName));
    }
}
