namespace Axentra.BuildingBlocks.Embedded;

internal static class EmbeddedSchema
{
    /// <remarks>
    /// <c>state</c> is an ordinary rowid table: its values (registry records, catalog entries with their content) are
    /// often 1–3 KB, and a WITHOUT ROWID table keeps rows in an index b-tree that spills anything over about 1 KB to
    /// overflow pages, which made every write touch several pages (docs/performance.md).
    /// <para>
    /// Keys are found through the index on <c>(cluster, key)</c>, not on <c>key</c> alone. <c>cluster</c> is a
    /// function of the key (<see cref="StateKeyCluster.Of"/>: the first 16 characters of its first run of 16 or more
    /// hex digits, else empty), so one payload's keys sit side by side in that index: the dedupe claim
    /// (<c>dedupe:payload-hash:{hash}</c>), the registry record (<c>event:{hash prefix}-{seconds}</c>) and its stage
    /// records. Their keys are random, so in key order each landed on a leaf of its own, and every webhook rewrote
    /// one more index page (docs/performance.md, seventh round). Being a function of the key, <c>(cluster, key)</c> is
    /// unique exactly when <c>key</c> is. <see cref="Migrate"/> converts a database of an earlier layout.
    /// </para>
    /// <para>
    /// The queue is a log with a cursor per subscriber, not a row per (subscriber, message): a publish appends one
    /// row at the end of two b-trees, where it used to add two delivery rows to three more, each removed again at
    /// the acknowledgement (docs/performance.md, eighth round). Rows in <c>queue_deliveries</c> are the exceptions:
    /// failed deliveries awaiting a retry, and dead letters.
    /// </para>
    /// </remarks>
    public const string Sql = """
        CREATE TABLE IF NOT EXISTS state (
            key        TEXT NOT NULL,
            cluster    TEXT NOT NULL,
            value      BLOB NOT NULL,
            etag       TEXT NOT NULL,
            expires_at INTEGER NULL,
            UNIQUE (cluster, key)
        );
        CREATE INDEX IF NOT EXISTS state_expiry ON state (expires_at) WHERE expires_at IS NOT NULL;

        -- The queue is a log: one row per message, appended by the publish (in the publisher's own commit).
        -- body_segment and body_offset say where the body is in the body segments (QueueBodyLog), when body is
        -- empty; a dead letter's body, and a message's from before the segments, are in body itself.
        CREATE TABLE IF NOT EXISTS queue_messages (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            topic        TEXT NOT NULL,
            body         BLOB NOT NULL,
            published_at INTEGER NOT NULL,
            body_segment INTEGER NULL,
            body_offset  INTEGER NULL
        );
        -- A subscriber reads its topic's messages in id order: (topic, rowid).
        CREATE INDEX IF NOT EXISTS queue_messages_topic ON queue_messages (topic);

        -- How far each subscriber has read its topic: every message up to position was handled, or has a row in
        -- queue_deliveries. A message is deleted once every subscriber of its topic is past it and no row holds it.
        CREATE TABLE IF NOT EXISTS queue_cursors (
            subscriber TEXT NOT NULL PRIMARY KEY,
            topic      TEXT NOT NULL,
            position   INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS queue_cursors_topic ON queue_cursors (topic);

        -- Deliveries that failed, one row per (subscriber, message): their retries, or a dead letter. Before the
        -- cursors, every message had one pending row per subscriber here; a database from then keeps them, and the
        -- dispatcher delivers them as due retries.
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
        -- "Does a failed delivery still hold this message?", asked before a message is deleted: without it SQLite
        -- scans every row, so each deletion's cost grew with the backlog (docs/performance.md).
        CREATE INDEX IF NOT EXISTS queue_deliveries_message ON queue_deliveries (message_id);
        """;

    /// <summary>
    /// Gives a <c>queue_messages</c> table of an earlier version the body segment columns, and every one the index on
    /// the segments rows refer to (<c>queue_messages_segment</c>: which body segments are still needed, and which
    /// number a new one must come after), in one transaction; true when it added a column. Run it after
    /// <see cref="Sql"/>. Rows of an earlier version keep their bodies, and are read as they are.
    /// </summary>
    public static bool MigrateQueue(Microsoft.Data.Sqlite.SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "BEGIN IMMEDIATE";
        command.ExecuteNonQuery();
        try
        {
            // Both columns in one transaction, each checked on its own: two statements that committed apart left
            // body_segment without body_offset after a kill between them, and every publish failed from then on.
            var changed = false;
            foreach (var (column, alter) in (ReadOnlySpan<(string, string)>)[
                ("body_segment", "ALTER TABLE queue_messages ADD COLUMN body_segment INTEGER NULL"),
                ("body_offset", "ALTER TABLE queue_messages ADD COLUMN body_offset INTEGER NULL")])
            {
                command.CommandText = "SELECT COUNT(*) FROM pragma_table_info('queue_messages') WHERE name = $name";
                command.Parameters.Clear();
                command.Parameters.AddWithValue("$name", column);
                if ((long)command.ExecuteScalar()! == 0)
                {
                    command.Parameters.Clear();
                    command.CommandText = alter;
                    command.ExecuteNonQuery();
                    changed = true;
                }
            }

            command.Parameters.Clear();

            command.CommandText = "CREATE INDEX IF NOT EXISTS queue_messages_segment ON queue_messages (body_segment) WHERE body_segment > 0";
            command.ExecuteNonQuery();
            command.CommandText = "COMMIT";
            command.ExecuteNonQuery();
            return changed;
        }
        catch
        {
            command.CommandText = "ROLLBACK";
            command.ExecuteNonQuery();
            throw;
        }
    }

    /// <summary>Any earlier <c>state</c> table (WITHOUT ROWID, or keyed by <c>key</c> alone) into the current one.</summary>
    private const string StateToClustered = """
        BEGIN IMMEDIATE;
        CREATE TABLE state_clustered (
            key        TEXT NOT NULL,
            cluster    TEXT NOT NULL,
            value      BLOB NOT NULL,
            etag       TEXT NOT NULL,
            expires_at INTEGER NULL,
            UNIQUE (cluster, key)
        );
        INSERT INTO state_clustered (key, cluster, value, etag, expires_at)
            SELECT key, axentra_state_key_cluster(key), value, etag, expires_at FROM state;
        DROP TABLE state;
        ALTER TABLE state_clustered RENAME TO state;
        CREATE INDEX state_expiry ON state (expires_at) WHERE expires_at IS NOT NULL;
        COMMIT;
        """;

    /// <summary>
    /// Brings a database created by an earlier version to <see cref="Sql"/>'s shape; true when it changed it. Run it
    /// before <see cref="Sql"/>, which would otherwise find the old table and leave it as it is.
    /// </summary>
    public static bool Migrate(Microsoft.Data.Sqlite.SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        // No columns: no table yet (Sql creates it). A cluster column: already the current layout.
        command.CommandText = "SELECT COUNT(*) > 0 AND COUNT(*) FILTER (WHERE name = 'cluster') = 0 FROM pragma_table_info('state')";
        if ((long)command.ExecuteScalar()! == 0)
        {
            return false;
        }

        connection.CreateFunction("axentra_state_key_cluster", (string key) => StateKeyCluster.Of(key), isDeterministic: true);
        command.CommandText = StateToClustered;
        command.ExecuteNonQuery();
        return true;
    }
}
