using Axentra.BuildingBlocks.State;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// <see cref="ITransactionalOutbox"/> on the embedded database: the state rows and the queue message go into one
/// write of the group commit, so they are durable together or not at all.
/// </summary>
public sealed class EmbeddedOutbox(EmbeddedDatabase database, SqliteStateStore state, LocalPubSub queue) : ITransactionalOutbox
{
    public async ValueTask<SaveOutcome> TryCommitAsync(OutboxCommit commit, CancellationToken cancellationToken)
    {
        var now = state.Now();
        var condition = (commit.Condition.Key, Value: WholeArrays.Of(commit.Condition.Value), ExpiresAt: SqliteStateStore.ExpiresAt(now, commit.Condition.TimeToLive));
        var writes = commit.Writes.Select(w => (w.Key, Value: WholeArrays.Of(w.Value), ExpiresAt: SqliteStateStore.ExpiresAt(now, w.TimeToLive))).ToArray();
        var subscribers = queue.SubscribersOf(commit.Topic);
        var message = WholeArrays.Of(commit.Message);

        var saved = await database.WriteRepeatableAsync(connection =>
        {
            if (!state.TrySave(connection, condition.Key, condition.Value, commit.ETag, condition.ExpiresAt, now))
            {
                return false;
            }

            foreach (var write in writes)
            {
                state.Save(connection, write.Key, write.Value, write.ExpiresAt, now);
            }

            if (subscribers is not null)
            {
                queue.Insert(connection, commit.Topic, message, now);
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);

        if (saved && subscribers is not null)
        {
            queue.NotifyPublished(subscribers);
        }

        return saved ? SaveOutcome.Saved : SaveOutcome.Conflict;
    }
}
