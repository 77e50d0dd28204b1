namespace Axentra.BuildingBlocks.Embedded;

internal static class EmbeddedSchema
{
    public const string Sql = """
        CREATE TABLE IF NOT EXISTS state (
            key        TEXT PRIMARY KEY,
            value      BLOB NOT NULL,
            etag       TEXT NOT NULL,
            expires_at INTEGER NULL
        ) WITHOUT ROWID;
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
        """;
}
