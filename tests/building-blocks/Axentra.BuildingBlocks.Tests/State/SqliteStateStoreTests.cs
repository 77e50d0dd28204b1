using Axentra.BuildingBlocks.Embedded;
using Axentra.BuildingBlocks.State;
using Axentra.BuildingBlocks.Tests.Support;

namespace Axentra.BuildingBlocks.Tests.State;

public sealed class SqliteStateStoreTests : StateStoreContract
{
    private readonly TempDirectory _directory = new();
    private EmbeddedDatabase? _database;
    private SqliteStateStore? _store;

    protected override ValueTask<IStateStore> CreateStoreAsync()
    {
        _database = EmbeddedDatabaseFactory.Open(_directory.Path);
        _store = new SqliteStateStore(_database, Clock);
        return ValueTask.FromResult<IStateStore>(_store);
    }

    protected override async ValueTask RemoveExpiredEntriesAsync() => await _store!.SweepExpiredAsync(Ct);

    protected override async ValueTask DisposeCoreAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        _directory.Dispose();
        await base.DisposeCoreAsync();
    }

    [Fact]
    public async Task State_survives_closing_and_reopening_the_database()
    {
        await Store.TrySaveAsync("k", Bytes("durable"), null, null, Ct);
        await _database!.DisposeAsync();

        _database = EmbeddedDatabaseFactory.Open(_directory.Path);
        var reopened = new SqliteStateStore(_database, Clock);

        Assert.Equal(Bytes("durable"), (await reopened.GetAsync("k", Ct))!.Value.ToArray());
    }

    [Fact]
    public async Task An_expired_key_can_be_claimed_again_before_any_sweep()
    {
        await Store.TrySaveAsync("claim", Bytes("c1"), null, TimeSpan.FromSeconds(60), Ct);
        Clock.Advance(TimeSpan.FromSeconds(61));

        Assert.Equal(SaveOutcome.Saved, await Store.TrySaveAsync("claim", Bytes("c2"), null, null, Ct));
    }
}
