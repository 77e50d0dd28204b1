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

    [Theory]
    [InlineData("CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB NOT NULL, etag TEXT NOT NULL, expires_at INTEGER NULL) WITHOUT ROWID")]
    [InlineData("CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB NOT NULL, etag TEXT NOT NULL, expires_at INTEGER NULL)")]
    public async Task A_database_with_an_earlier_state_table_is_converted_with_its_entries_and_etags(string earlierTable)
    {
        await _database!.DisposeAsync();
        _database = null;
        var path = System.IO.Path.Combine(_directory.Path, "axentra.db");
        File.Delete(path);
        const string hashKey = "event:0123456789abcdef-1765297638";
        using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = $"""
                {earlierTable};
                CREATE INDEX state_expiry ON state (expires_at) WHERE expires_at IS NOT NULL;
                INSERT INTO state VALUES ('kept', X'6B657074', 'etag-1', NULL);
                INSERT INTO state VALUES ('{hashKey}', X'6B657074', 'etag-2', 4102444800000);
                """;
            create.ExecuteNonQuery();
        }

        _database = EmbeddedDatabaseFactory.Open(_directory.Path);
        var store = new SqliteStateStore(_database, Clock);

        var entry = await store.GetAsync("kept", Ct);
        Assert.Equal(Bytes("kept"), entry!.Value.ToArray());
        Assert.Equal("etag-2", (await store.GetAsync(hashKey, Ct))!.ETag);
        Assert.Equal(SaveOutcome.Saved, await store.TrySaveAsync("kept", Bytes("next"), entry.ETag, null, Ct));
        Assert.Equal(SaveOutcome.Conflict, await store.TrySaveAsync("kept", Bytes("again"), null, null, Ct));
        Assert.Equal(SaveOutcome.Conflict, await store.TrySaveAsync(hashKey, Bytes("again"), null, null, Ct));
        var (sql, clusters) = _database.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'state'";
            var table = (string)command.ExecuteScalar()!;
            command.CommandText = "SELECT group_concat(key || '=' || cluster, ' ') FROM (SELECT key, cluster FROM state ORDER BY key)";
            return (table, (string)command.ExecuteScalar()!);
        });
        Assert.DoesNotContain("WITHOUT ROWID", sql, StringComparison.OrdinalIgnoreCase);
        Assert.Equal($"{hashKey}=0123456789abcdef kept=", clusters);
    }

    [Fact]
    public async Task A_payloads_claim_registry_record_and_stages_share_index_pages_and_every_lookup_uses_the_index()
    {
        const string hash = "e8b78063c351200b9f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6";
        string[] keys = [$"dedupe:payload-hash:{hash}", "event:e8b78063c351200b-1765297638", "event:e8b78063c351200b-1765297638:audit"];
        foreach (var key in keys)
        {
            await Store.TrySaveAsync(key, Bytes(key), null, null, Ct);
            await Store.TrySaveAsync($"other:{key.Replace("e8b7", "ffff", StringComparison.Ordinal)}", Bytes("x"), null, null, Ct);
        }

        var (neighbours, plans) = _database!.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT group_concat(key, ' ') FROM (SELECT key FROM state WHERE cluster = 'e8b78063c351200b' ORDER BY cluster, key)";
            var rows = (string)command.ExecuteScalar()!;
            var found = new List<string>();
            foreach (var statement in new[]
            {
                "SELECT value, etag FROM state WHERE cluster = $cluster AND key = $key AND (expires_at IS NULL OR expires_at > $now)",
                "DELETE FROM state WHERE cluster = $cluster AND key = $key AND ($etag IS NULL OR etag = $etag)",
            })
            {
                command.CommandText = "EXPLAIN QUERY PLAN " + statement;
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    found.Add(reader.GetString(3));
                }
            }

            return (rows, found);
        });

        Assert.Equal(string.Join(' ', keys.Order(StringComparer.Ordinal)), neighbours);
        Assert.All(plans, plan => Assert.Contains("USING INDEX sqlite_autoindex_state_1 (cluster=? AND key=?)", plan, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("dedupe:payload-hash:e8b78063c351200b9f1c2d3e4f5a6b7c", "e8b78063c351200b")]
    [InlineData("event:e8b78063c351200b-1765297638", "e8b78063c351200b")]
    [InlineData("event:e8b78063c351200b-1765297638:catalog", "e8b78063c351200b")]
    [InlineData("dedupe:webhook-id:msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", "")]
    [InlineData("catalog:store-1:product:3f2c9a1e-8b7d-4c6e-9f0a-1b2c3d4e5f60", "")] // UUID groups are shorter than 16
    [InlineData("run:1234567890abcdeF0123456789abcdef01", "0123456789abcdef")] // upper case ends a run
    [InlineData("", "")]
    public void A_keys_cluster_is_the_start_of_its_first_long_lowercase_hex_run(string key, string cluster) =>
        Assert.Equal(cluster, StateKeyCluster.Of(key));
}
