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

    [Fact]
    public async Task A_database_with_the_earlier_without_rowid_state_table_is_converted_with_its_entries_and_etags()
    {
        await _database!.DisposeAsync();
        _database = null;
        var path = System.IO.Path.Combine(_directory.Path, "axentra.db");
        File.Delete(path);
        using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB NOT NULL, etag TEXT NOT NULL, expires_at INTEGER NULL) WITHOUT ROWID;
                CREATE INDEX state_expiry ON state (expires_at) WHERE expires_at IS NOT NULL;
                INSERT INTO state VALUES ('kept', X'6B657074', 'etag-1', NULL);
                """;
            create.ExecuteNonQuery();
        }

        _database = EmbeddedDatabaseFactory.Open(_directory.Path);
        var store = new SqliteStateStore(_database, Clock);

        var entry = await store.GetAsync("kept", Ct);
        Assert.Equal(Bytes("kept"), entry!.Value.ToArray());
        Assert.Equal(SaveOutcome.Saved, await store.TrySaveAsync("kept", Bytes("next"), entry.ETag, null, Ct));
        Assert.Equal(SaveOutcome.Conflict, await store.TrySaveAsync("kept", Bytes("again"), null, null, Ct));
        var sql = _database.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'state'";
            return (string)command.ExecuteScalar()!;
        });
        Assert.DoesNotContain("WITHOUT ROWID", sql, StringComparison.OrdinalIgnoreCase);
    }
}
