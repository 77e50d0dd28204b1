using System.Text.RegularExpressions;
using Axentra.BuildingBlocks.Embedded;
using Axentra.BuildingBlocks.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Axentra.BuildingBlocks.Tests.PubSub;

/// <summary>
/// The durable queue's per-delivery statements find their rows through an index. A full scan there costs time in
/// proportion to the backlog on every delivery: the acknowledgement once scanned every pending delivery, which made
/// the pipeline slower the further it fell behind (docs/performance.md, third round).
/// </summary>
public sealed partial class LocalQueueStatementPlanTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    public static TheoryData<string> DeliveryPath() => [.. LocalQueueStatements.DeliveryPath.SelectMany(Statements)];

    [Theory]
    [MemberData(nameof(DeliveryPath))]
    public async Task No_delivery_path_statement_scans_a_table(string statement)
    {
        await EmbeddedDatabaseFactory.Open(_directory.Path).DisposeAsync(); // the schema as the host creates it
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, "axentra.db")}");
        connection.Open();

        var plan = QueryPlan(connection, statement);

        if (!statement.StartsWith("INSERT", StringComparison.Ordinal))
        {
            Assert.NotEmpty(plan); // a plan was read: an INSERT … VALUES has no steps to show
        }

        Assert.DoesNotContain(plan, step => step.StartsWith("SCAN", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_database_from_before_the_message_index_gets_it_when_opened()
    {
        var path = Path.Combine(_directory.Path, "axentra.db");
        using (var old = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            old.Open();
            EmbeddedDatabase.Execute(old, """
                CREATE TABLE queue_deliveries (subscriber TEXT NOT NULL, message_id INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0,
                    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, last_error TEXT NULL,
                    PRIMARY KEY (subscriber, message_id)) WITHOUT ROWID;
                """);
        }

        await EmbeddedDatabaseFactory.Open(_directory.Path).DisposeAsync();

        using var connection = new SqliteConnection($"Data Source={path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'queue_deliveries_message'";
        Assert.Equal(1L, command.ExecuteScalar());
    }

    /// <summary>Each statement of a batch on its own: EXPLAIN QUERY PLAN looks at one statement.</summary>
    private static IEnumerable<string> Statements(string sql) =>
        sql.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static List<string> QueryPlan(SqliteConnection connection, string statement)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + statement;
        foreach (var name in ParameterName().Matches(statement).Select(m => m.Value).Distinct(StringComparer.Ordinal))
        {
            command.Parameters.AddWithValue(name, 1);
        }

        using var reader = command.ExecuteReader();
        var steps = new List<string>();
        while (reader.Read())
        {
            steps.Add(reader.GetString(3));
        }

        return steps;
    }

    [GeneratedRegex(@"\$[a-z_]+")]
    private static partial Regex ParameterName();
}
