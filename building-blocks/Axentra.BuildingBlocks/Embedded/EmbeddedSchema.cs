namespace Axentra.BuildingBlocks.Embedded;

internal static class EmbeddedSchema
{
    /// <remarks>
    /// <c>state</c> is an ordinary rowid table: its values (registry records, catalog entries with their content) are
    /// often 1–3 KB, and a WITHOUT ROWID table keeps rows in an index b-tree that spills anything over about 1 KB to
    /// overflow pages, which made every write touch several pages (docs/performance.md). <see cref="Migrate"/>
    /// converts a database created with the earlier WITHOUT ROWID table.
    /// </remarks>
    public const string Sql = """
        CREATE TABLE IF NOT EXISTS state (
            key        TEXT PRIMARY KEY,
            value      BLOB NOT NULL,
            etag       TEXT NOT NULL,
            expires_at INTEGER NULL
        );
        CREATE INDEX IF NOT EXISTS state_expiry ON state (expires_at) WHERE expires_at IS NOT NULL;

        CREATE TABLE IF NOT EXISTS queue_messages (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            topic        TEXT NOT NULL,
            body         BLOB NOT NULL,
            published_at INTEGER NOT NULL
        );

        -- One row per (subscriber, message): each subscriber has its own progress, retries and dead letters.
        CREATE TABLE IF NOT EXISTS queue_deliveries (
            subscriber      TEXT NOT NULL,
            message_id      INTEGER NOT NULL,
            state           INTEGER NOT NULL DEFAULT 0, -- 0 pending, 2 dead-lettered
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            last_error      TEXT NULL,
            PRIMARY KEY (subscriber, message_id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS queue_due ON queue_deliveries (subscriber, state, next_attempt_at);
        -- "Is any subscriber still owed this message?", asked after every successful delivery: without it SQLite
        -- scans every pending delivery, so each acknowledgement cost grew with the backlog (docs/performance.md).
        CREATE INDEX IF NOT EXISTS queue_deliveries_message ON queue_deliveries (message_id);
        """;

    private const string StateToRowid = """
        BEGIN IMMEDIATE;
        CREATE TABLE state_rowid (
            key        TEXT PRIMARY KEY,
            value      BLOB NOT NULL,
            etag       TEXT NOT NULL,
            expires_at INTEGER NULL
        );
        INSERT INTO state_rowid (key, value, etag, expires_at) SELECT key, value, etag, expires_at FROM state;
        DROP TABLE state;
        ALTER TABLE state_rowid RENAME TO state;
        CREATE INDEX state_expiry ON state (expires_at) WHERE expires_at IS NOT NULL;
        COMMIT;
        """;

    /// <summary>Brings a database created by an earlier version to <see cref="Sql"/>'s shape; true when it changed it.</summary>
    public static bool Migrate(Microsoft.Data.Sqlite.SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'state'";
        if (command.ExecuteScalar() is not string sql || !sql.Contains("WITHOUT ROWID", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        command.CommandText = StateToRowid;
        command.ExecuteNonQuery();
        return true;
    }
}
