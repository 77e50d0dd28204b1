using Axentra.BuildingBlocks.State;
using Microsoft.Data.Sqlite;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// <see cref="IStateStore"/> on the embedded SQLite database. Conditional writes are single statements, so two
/// racing first-writes of one key cannot both succeed; expired rows behave as absent and are swept later.
/// </summary>
public sealed class SqliteStateStore(EmbeddedDatabase database, TimeProvider timeProvider) : IStateStore
{
    public ValueTask<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var now = Now();
        var entry = database.Read(connection =>
        {
            var command = database.Prepared(connection, "SELECT value, etag FROM state WHERE cluster = $cluster AND key = $key AND (expires_at IS NULL OR expires_at > $now)");
            BindKey(command, key);
            command.Parameters.AddWithValue("$now", now);
            using var reader = command.ExecuteReader();
            return reader.Read() ? new StateEntry((byte[])reader.GetValue(0), reader.GetString(1)) : null;
        });
        return ValueTask.FromResult(entry);
    }

    public async ValueTask<SaveOutcome> TrySaveAsync(string key, ReadOnlyMemory<byte> value, string? etag, TimeSpan? timeToLive, CancellationToken cancellationToken)
    {
        var now = Now();
        var expiresAt = ExpiresAt(now, timeToLive);
        var bytes = value.ToArray();
        var saved = await database.WriteStatementAsync(connection => TrySave(connection, key, bytes, etag, expiresAt, now), cancellationToken).ConfigureAwait(false);
        return saved ? SaveOutcome.Saved : SaveOutcome.Conflict;
    }

    public async ValueTask SaveAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? timeToLive, CancellationToken cancellationToken)
    {
        var now = Now();
        var expiresAt = ExpiresAt(now, timeToLive);
        var bytes = value.ToArray();
        await database.WriteStatementAsync(connection =>
        {
            Save(connection, key, bytes, expiresAt, now);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The conditional write of <see cref="TrySaveAsync"/>, inside a write the caller runs.</summary>
    internal bool TrySave(SqliteConnection connection, string key, byte[] value, string? etag, long? expiresAt, long now)
    {
        var command = database.Prepared(connection, etag is null
            ? """
              INSERT INTO state (key, cluster, value, etag, expires_at) VALUES ($key, $cluster, $value, $newEtag, $expiresAt)
              ON CONFLICT (cluster, key) DO UPDATE SET value = excluded.value, etag = excluded.etag, expires_at = excluded.expires_at
              WHERE state.expires_at IS NOT NULL AND state.expires_at <= $now
              """
            : """
              UPDATE state SET value = $value, etag = $newEtag, expires_at = $expiresAt
              WHERE cluster = $cluster AND key = $key AND etag = $etag AND (expires_at IS NULL OR expires_at > $now)
              """);
        Bind(command, key, value, expiresAt, now);
        if (etag is not null)
        {
            command.Parameters.AddWithValue("$etag", etag);
        }

        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>A <see cref="StateWrite"/>, unconditionally, inside a write the caller runs (a queue committing it with its own rows).</summary>
    internal void Save(SqliteConnection connection, StateWrite write)
    {
        var now = Now();
        Save(connection, write.Key, WholeArrays.Of(write.Value), ExpiresAt(now, write.TimeToLive), now);
    }

    /// <summary>The unconditional write of <see cref="SaveAsync"/>, inside a write the caller runs.</summary>
    internal void Save(SqliteConnection connection, string key, byte[] value, long? expiresAt, long now)
    {
        var command = database.Prepared(connection, """
            INSERT INTO state (key, cluster, value, etag, expires_at) VALUES ($key, $cluster, $value, $newEtag, $expiresAt)
            ON CONFLICT (cluster, key) DO UPDATE SET value = excluded.value, etag = excluded.etag, expires_at = excluded.expires_at
            """);
        Bind(command, key, value, expiresAt, now);
        command.ExecuteNonQuery();
    }

    public async ValueTask<bool> TryDeleteAsync(string key, string? etag, CancellationToken cancellationToken)
    {
        var deleted = await database.WriteStatementAsync(connection =>
        {
            var command = database.Prepared(connection, "DELETE FROM state WHERE cluster = $cluster AND key = $key AND ($etag IS NULL OR etag = $etag)");
            BindKey(command, key);
            command.Parameters.AddWithValue("$etag", (object?)etag ?? DBNull.Value);
            return command.ExecuteNonQuery();
        }, cancellationToken).ConfigureAwait(false);
        return deleted == 1;
    }

    /// <summary>Deletes expired rows; called periodically by the standalone host.</summary>
    public Task<int> SweepExpiredAsync(CancellationToken cancellationToken)
    {
        var now = Now();
        return database.WriteAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM state WHERE expires_at IS NOT NULL AND expires_at <= $now";
            command.Parameters.AddWithValue("$now", now);
            return command.ExecuteNonQuery();
        }, cancellationToken);
    }

    /// <summary>A key is found by its cluster and itself (<see cref="EmbeddedSchema"/>).</summary>
    private static void BindKey(SqliteCommand command, string key)
    {
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$cluster", StateKeyCluster.Of(key));
    }

    private static void Bind(SqliteCommand command, string key, byte[] value, long? expiresAt, long now)
    {
        BindKey(command, key);
        command.Parameters.AddWithValue("$value", value);
        command.Parameters.AddWithValue("$newEtag", UniqueTokens.Next());
        command.Parameters.AddWithValue("$expiresAt", (object?)expiresAt ?? DBNull.Value);
        command.Parameters.AddWithValue("$now", now);
    }

    internal long Now() => timeProvider.GetUtcNow().ToUnixTimeMilliseconds();

    internal static long? ExpiresAt(long now, TimeSpan? timeToLive) =>
        timeToLive is { } ttl ? now + (long)ttl.TotalMilliseconds : null;
}
