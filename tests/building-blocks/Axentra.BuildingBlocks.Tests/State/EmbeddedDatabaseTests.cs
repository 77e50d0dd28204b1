using Axentra.BuildingBlocks.Embedded;
using Axentra.BuildingBlocks.Tests.Support;

namespace Axentra.BuildingBlocks.Tests.State;

/// <summary>The group commit: one caller's failed write never takes the others' down with it.</summary>
public sealed class EmbeddedDatabaseTests : IAsyncDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly EmbeddedDatabase _database;

    public EmbeddedDatabaseTests()
    {
        _database = EmbeddedDatabaseFactory.Open(_directory.Path);
        _database.WriteAsync(connection => _database.Prepared(connection, "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)").ExecuteNonQuery())
            .GetAwaiter().GetResult();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        await _database.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task A_failing_multi_statement_write_is_rolled_back_alone_and_the_rest_of_its_batch_commits()
    {
        var writes = Enumerable.Range(0, 40).Select(i => _database.WriteAsync(connection =>
        {
            Insert(_database, connection, $"k{i}", i);
            Insert(_database, connection, $"k{i}-second", i);
            return i % 4 == 0 ? throw new InvalidOperationException("refused") : i;
        }, Ct)).ToList();

        var failed = 0;
        foreach (var write in writes)
        {
            try
            {
                await write;
            }
            catch (InvalidOperationException)
            {
                failed++;
            }
        }

        Assert.Equal(10, failed);
        Assert.Equal(60, Count()); // 30 writes of two rows each; the failed ones left neither row
    }

    [Fact]
    public async Task A_repeatable_write_that_fails_after_its_first_statement_leaves_nothing_and_its_batch_mates_see_none_of_it()
    {
        // Every second write inserts a row, then fails. Without a savepoint its row can only be undone by rolling the
        // batch back; the writes run again without it, and the ones after it must not see the row it had inserted.
        var writes = Enumerable.Range(0, 40).Select(i => _database.WriteRepeatableAsync(connection =>
        {
            if (i % 2 == 1)
            {
                Insert(_database, connection, "shared", i);
                throw new InvalidOperationException("refused after writing");
            }

            using var probe = connection.CreateCommand();
            probe.CommandText = "SELECT COUNT(*) FROM t WHERE k = 'shared'";
            var sawShared = (long)probe.ExecuteScalar()!;
            Insert(_database, connection, $"k{i}", (int)sawShared);
            return sawShared;
        }, Ct)).ToList();

        for (var i = 0; i < writes.Count; i++)
        {
            if (i % 2 == 1)
            {
                await Assert.ThrowsAsync<InvalidOperationException>(() => writes[i]);
            }
            else
            {
                Assert.Equal(0, await writes[i]);
            }
        }

        Assert.Equal(20, Count());
    }

    [Fact]
    public async Task A_failing_single_statement_write_fails_its_caller_only()
    {
        var writes = Enumerable.Range(0, 40).Select(i => _database.WriteStatementAsync(connection =>
        {
            Insert(_database, connection, $"k{i}", i % 4 == 0 ? null : i); // NOT NULL violation: the statement is undone, the transaction goes on
            return i;
        }, Ct)).ToList();

        var failed = 0;
        foreach (var write in writes)
        {
            try
            {
                await write;
            }
            catch (Microsoft.Data.Sqlite.SqliteException)
            {
                failed++;
            }
        }

        Assert.Equal(10, failed);
        Assert.Equal(30, Count());
    }

    private static void Insert(EmbeddedDatabase database, Microsoft.Data.Sqlite.SqliteConnection connection, string key, int? value)
    {
        var command = database.Prepared(connection, "INSERT INTO t (k, v) VALUES ($k, $v)");
        command.Parameters.AddWithValue("$k", key);
        command.Parameters.AddWithValue("$v", (object?)value ?? DBNull.Value);
        command.ExecuteNonQuery();
    }

    private long Count() => _database.Read(connection =>
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM t";
        return (long)command.ExecuteScalar()!;
    });
}
