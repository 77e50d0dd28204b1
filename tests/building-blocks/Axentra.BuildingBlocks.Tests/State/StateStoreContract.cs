using System.Text;
using Axentra.BuildingBlocks.State;
using Microsoft.Extensions.Time.Testing;

namespace Axentra.BuildingBlocks.Tests.State;

/// <summary>
/// What every <see cref="IStateStore"/> promises, run against each adapter family. The clock is a
/// <see cref="FakeTimeProvider"/> shared with the store (or with the stand-in sidecar behind it).
/// </summary>
public abstract class StateStoreContract : IAsyncLifetime
{
    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    protected IStateStore Store { get; private set; } = null!;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract ValueTask<IStateStore> CreateStoreAsync();

    /// <summary>The backend's own removal of expired entries (DynamoDB's lazy TTL deletion, the embedded sweeper).</summary>
    protected abstract ValueTask RemoveExpiredEntriesAsync();

    public async ValueTask InitializeAsync() => Store = await CreateStoreAsync();

    public async ValueTask DisposeAsync()
    {
        await DisposeCoreAsync();
        GC.SuppressFinalize(this);
    }

    protected virtual ValueTask DisposeCoreAsync() => ValueTask.CompletedTask;

    protected static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task A_missing_key_reads_as_null()
    {
        Assert.Null(await Store.GetAsync("nobody-wrote-this", Ct));
    }

    [Fact]
    public async Task A_first_write_saves_the_bytes_with_an_etag()
    {
        var value = Bytes("""{"claim":"a","n":1}""");

        Assert.Equal(SaveOutcome.Saved, await Store.TrySaveAsync("k", value, etag: null, timeToLive: null, Ct));

        var entry = await Store.GetAsync("k", Ct);
        Assert.NotNull(entry);
        Assert.Equal(value, entry.Value.ToArray());
        Assert.False(string.IsNullOrEmpty(entry.ETag));
    }

    [Fact]
    public async Task A_first_write_of_an_existing_key_is_a_conflict_and_keeps_the_first_value()
    {
        await Store.TrySaveAsync("k", Bytes("first"), null, null, Ct);

        Assert.Equal(SaveOutcome.Conflict, await Store.TrySaveAsync("k", Bytes("second"), null, null, Ct));
        Assert.Equal(Bytes("first"), (await Store.GetAsync("k", Ct))!.Value.ToArray());
    }

    [Fact]
    public async Task A_write_with_the_current_etag_saves_and_moves_the_etag_on()
    {
        await Store.TrySaveAsync("k", Bytes("v1"), null, null, Ct);
        var before = (await Store.GetAsync("k", Ct))!;

        Assert.Equal(SaveOutcome.Saved, await Store.TrySaveAsync("k", Bytes("v2"), before.ETag, null, Ct));

        var after = (await Store.GetAsync("k", Ct))!;
        Assert.Equal(Bytes("v2"), after.Value.ToArray());
        Assert.NotEqual(before.ETag, after.ETag);
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_is_a_conflict_and_changes_nothing()
    {
        await Store.TrySaveAsync("k", Bytes("v1"), null, null, Ct);
        var stale = (await Store.GetAsync("k", Ct))!.ETag;
        await Store.TrySaveAsync("k", Bytes("v2"), stale, null, Ct);

        Assert.Equal(SaveOutcome.Conflict, await Store.TrySaveAsync("k", Bytes("v3"), stale, null, Ct));
        Assert.Equal(Bytes("v2"), (await Store.GetAsync("k", Ct))!.Value.ToArray());
    }

    [Fact]
    public async Task A_write_with_an_etag_for_a_missing_key_is_a_conflict()
    {
        Assert.Equal(SaveOutcome.Conflict, await Store.TrySaveAsync("ghost", Bytes("v"), "0123abcd", null, Ct));
        Assert.Null(await Store.GetAsync("ghost", Ct));
    }

    [Fact]
    public async Task An_unconditional_save_overwrites_and_moves_the_etag_on()
    {
        await Store.TrySaveAsync("k", Bytes("v1"), null, null, Ct);
        var before = (await Store.GetAsync("k", Ct))!.ETag;

        await Store.SaveAsync("k", Bytes("v2"), null, Ct);

        var after = (await Store.GetAsync("k", Ct))!;
        Assert.Equal(Bytes("v2"), after.Value.ToArray());
        Assert.NotEqual(before, after.ETag);
    }

    [Fact]
    public async Task An_entry_is_gone_once_its_time_to_live_has_passed()
    {
        await Store.TrySaveAsync("claim", Bytes("c1"), null, TimeSpan.FromSeconds(60), Ct);

        Clock.Advance(TimeSpan.FromSeconds(59));
        Assert.NotNull(await Store.GetAsync("claim", Ct));

        Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(await Store.GetAsync("claim", Ct));
    }

    [Fact]
    public async Task An_expired_key_can_be_claimed_again_by_a_first_write()
    {
        await Store.TrySaveAsync("claim", Bytes("c1"), null, TimeSpan.FromSeconds(60), Ct);
        Clock.Advance(TimeSpan.FromSeconds(61));
        await RemoveExpiredEntriesAsync();

        Assert.Equal(SaveOutcome.Saved, await Store.TrySaveAsync("claim", Bytes("c2"), null, TimeSpan.FromSeconds(60), Ct));
        Assert.Equal(Bytes("c2"), (await Store.GetAsync("claim", Ct))!.Value.ToArray());
    }

    [Fact]
    public async Task An_entry_without_time_to_live_does_not_expire()
    {
        await Store.SaveAsync("registry", Bytes("r"), null, Ct);

        Clock.Advance(TimeSpan.FromDays(3000));

        Assert.NotNull(await Store.GetAsync("registry", Ct));
    }

    [Fact]
    public async Task A_delete_with_the_current_etag_removes_the_key()
    {
        await Store.TrySaveAsync("k", Bytes("v"), null, null, Ct);
        var etag = (await Store.GetAsync("k", Ct))!.ETag;

        Assert.True(await Store.TryDeleteAsync("k", etag, Ct));
        Assert.Null(await Store.GetAsync("k", Ct));
    }

    [Fact]
    public async Task A_delete_with_a_stale_etag_is_refused_and_keeps_the_key()
    {
        await Store.TrySaveAsync("k", Bytes("v1"), null, null, Ct);
        var stale = (await Store.GetAsync("k", Ct))!.ETag;
        await Store.SaveAsync("k", Bytes("v2"), null, Ct);

        Assert.False(await Store.TryDeleteAsync("k", stale, Ct));
        Assert.Equal(Bytes("v2"), (await Store.GetAsync("k", Ct))!.Value.ToArray());
    }

    [Fact]
    public async Task A_delete_without_etag_removes_whatever_is_there()
    {
        await Store.TrySaveAsync("k", Bytes("v"), null, null, Ct);

        await Store.TryDeleteAsync("k", null, Ct);

        Assert.Null(await Store.GetAsync("k", Ct));
        Assert.Equal(SaveOutcome.Saved, await Store.TrySaveAsync("k", Bytes("again"), null, null, Ct));
    }

    [Fact]
    public async Task Of_500_concurrent_first_writes_of_one_key_exactly_one_wins()
    {
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 500).Select(i =>
            Task.Run(async () => await Store.TrySaveAsync("dedupe:hot", Bytes($"claim-{i}"), null, TimeSpan.FromHours(24), Ct), Ct)));

        Assert.Equal(1, outcomes.Count(o => o == SaveOutcome.Saved));
        Assert.Equal(499, outcomes.Count(o => o == SaveOutcome.Conflict));
        var winner = Encoding.UTF8.GetString((await Store.GetAsync("dedupe:hot", Ct))!.Value.Span);
        Assert.StartsWith("claim-", winner, StringComparison.Ordinal);
    }
}
