using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// The standalone host's SQLite database (state and the durable local queue share one file).
/// All writes go through one writer loop that commits whatever is queued in a single transaction (group
/// commit): many concurrent requests cost one commit, and each caller's task completes only after the commit
/// that holds its write. WAL mode lets reads run beside the writer on pooled connections.
/// </summary>
/// <remarks>
/// The writer is the host's throughput ceiling, so it does as little as it can per write: statements are prepared
/// once and reused (<see cref="Prepared"/>), and WAL checkpoints run on a connection of their own instead of inside
/// a commit (docs/performance.md). Neither changes what a completed write means. Reads reuse open connections
/// from a pool of their own, each with its prepared statements too: parsing a statement costs more than running
/// these one-row queries.
/// </remarks>
public sealed class EmbeddedDatabase : IAsyncDisposable
{
    /// <summary>The database's file in a standalone host's data directory (its queue bodies beside it, in <c>{FileName}-queue/</c>).</summary>
    public const string FileName = "axentra.db";

    private const int MaxBatch = 512;

    private readonly string _connectionString;
    private readonly Channel<IWriteOperation> _writes = Channel.CreateUnbounded<IWriteOperation>(
        new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteConnection _writer;
    private readonly Task _writerLoop;
    private readonly ILogger _logger;

    /// <summary>The writer connection's prepared commands by SQL text; touched only by the writer loop.</summary>
    private readonly Dictionary<string, SqliteCommand> _prepared = new(StringComparer.Ordinal);
    private SqliteTransaction? _transaction;
    private readonly WalCheckpointer _checkpointer;
    private readonly System.Collections.Concurrent.ConcurrentBag<ReaderConnection> _readers = [];

    /// <summary>The reader connection the current thread is inside <see cref="Read{T}"/> with (reads are synchronous).</summary>
    [ThreadStatic]
    private static ReaderConnection? t_reader;

    public EmbeddedDatabase(string path, bool synchronousFull, ILogger<EmbeddedDatabase> logger)
        : this(path, synchronousFull, logger, WalCheckpointer.RestartPages)
    {
    }

    /// <param name="path">The database file.</param>
    /// <param name="synchronousFull">fsync every commit (survives power loss), not only checkpoints (survives kill -9).</param>
    /// <param name="logger">Where commit failures go.</param>
    /// <param name="walRestartPages">WAL length (pages) from which it is started over; tests use a short one.</param>
    /// <param name="queueSegmentBytes">Size from which the queue's body segment gets a new one after it; tests use a small one.</param>
    internal EmbeddedDatabase(string path, bool synchronousFull, ILogger<EmbeddedDatabase> logger, int walRestartPages, long queueSegmentBytes = QueueBodyLog.DefaultSegmentBytes)
    {
        _logger = logger;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();

        _writer = new SqliteConnection(_connectionString);
        _writer.Open();
        // WAL + synchronous=NORMAL survives a killed process (the WAL is in the OS page cache); FULL also survives
        // power loss, at the price of an fsync per commit. Group commit keeps either affordable.
        Execute(_writer, $"PRAGMA journal_mode=WAL; PRAGMA synchronous={(synchronousFull ? "FULL" : "NORMAL")}; PRAGMA busy_timeout=30000;");
        // A multi-statement write (WriteAsync) runs inside a savepoint of the group's transaction, and SQLite copies
        // each page a savepoint changes into a statement journal so it can roll that write back alone. That journal
        // lives in memory up to 64 KiB and then spills to a temporary file for the rest of the transaction: about 14
        // page writes per webhook to a file nobody reads back (docs/performance.md). In memory it stays small.
        Execute(_writer, "PRAGMA temp_store=MEMORY;");
        // Checkpoints copy the WAL back into the database file and fsync it; done inside a commit they stall every
        // write behind them. The checkpointer does them beside the writer; the writer's own automatic checkpoint
        // stays as a backstop at a much larger WAL, so the file stays bounded if the checkpointer falls behind.
        Execute(_writer, $"PRAGMA wal_autocheckpoint={WalCheckpointer.BackstopPages};");
        if (EmbeddedSchema.Migrate(_writer))
        {
            logger.LogInformation("Embedded database {Path}: state table converted to the current layout", path);
        }

        Execute(_writer, EmbeddedSchema.Sql);
        if (EmbeddedSchema.MigrateQueue(_writer))
        {
            logger.LogInformation("Embedded database {Path}: queue messages keep their bodies in {Segments} from now on", path, Path.GetFileName(path) + "-queue");
        }

        long newestReferenced;
        using (var newest = _writer.CreateCommand())
        {
            newest.CommandText = LocalQueueStatements.NewestSegment;
            newestReferenced = newest.ExecuteScalar() is long n ? n : 0;
        }

        QueueBodies = new QueueBodyLog(path + "-queue", synchronousFull, queueSegmentBytes, newestReferenced);
        _checkpointer = new WalCheckpointer(_connectionString, walRestartPages, logger, QueueBodies.FlushRetired);
        _writerLoop = Task.Factory.StartNew(RunWriter, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>The local queue's message bodies, committed with the writes that append them (<see cref="QueueBodyLog"/>).</summary>
    internal QueueBodyLog QueueBodies { get; }

    /// <summary>
    /// A command for <paramref name="sql"/> on <paramref name="connection"/>, prepared on first use and reused by every
    /// later call on that connection. Call it only inside a <see cref="WriteAsync{T}"/> operation or a
    /// <see cref="Read{T}"/> query, with the connection it was given; the parameters come back cleared. The command
    /// belongs to the database: do not dispose it.
    /// </summary>
    public SqliteCommand Prepared(SqliteConnection connection, string sql)
    {
        Dictionary<string, SqliteCommand> prepared;
        if (ReferenceEquals(connection, _writer))
        {
            prepared = _prepared;
        }
        else if (t_reader is { } reader && ReferenceEquals(connection, reader.Connection))
        {
            prepared = reader.Prepared;
        }
        else
        {
            throw new InvalidOperationException("Prepared commands exist only on the connection given to WriteAsync or Read.");
        }

        if (!prepared.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            prepared.Add(sql, command);
        }

        command.Transaction = ReferenceEquals(connection, _writer) ? _transaction : null;
        command.Parameters.Clear();
        return command;
    }

    /// <summary>
    /// Runs <paramref name="operation"/> inside the next group-committed transaction, in a savepoint of its own: all
    /// of its statements commit together or none does, and when it fails only the savepoint is rolled back.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, T> operation, CancellationToken cancellationToken = default) =>
        Enqueue(new WriteOperation<T>(operation, WriteIsolation.Savepoint), cancellationToken);

    /// <summary>
    /// <see cref="WriteAsync{T}"/> without the savepoint, for a hot operation of a few statements: when it fails
    /// part-way, the whole transaction is rolled back and the rest of the batch runs again without it
    /// (<see cref="CommitBatch"/>). It may therefore run more than once, and must only touch the connection it is given.
    /// </summary>
    public Task<T> WriteRepeatableAsync<T>(Func<SqliteConnection, T> operation, CancellationToken cancellationToken = default) =>
        Enqueue(new WriteOperation<T>(operation, WriteIsolation.RerunBatch), cancellationToken);

    /// <summary>
    /// <see cref="WriteAsync{T}"/> for an operation that runs exactly one statement. SQLite makes a single statement
    /// atomic, so it runs without a savepoint, and when it fails the statement is undone alone.
    /// </summary>
    public Task<T> WriteStatementAsync<T>(Func<SqliteConnection, T> statement, CancellationToken cancellationToken = default) =>
        Enqueue(new WriteOperation<T>(statement, WriteIsolation.SingleStatement), cancellationToken);

    private Task<T> Enqueue<T>(WriteOperation<T> op, CancellationToken cancellationToken)
    {
        if (!_writes.Writer.TryWrite(op))
        {
            throw new BackendUnavailableException("embedded-database", "the database is shutting down");
        }

        return cancellationToken.CanBeCanceled ? op.Completion.WaitAsync(cancellationToken) : op.Completion;
    }

    /// <summary>
    /// Runs a read on a pooled connection of its own (WAL readers never wait for the writer). The query may use
    /// <see cref="Prepared"/> on that connection; it must not keep the connection or a reader after it returns.
    /// </summary>
    public T Read<T>(Func<SqliteConnection, T> query)
    {
        if (t_reader is not null)
        {
            throw new InvalidOperationException("Read does not nest.");
        }

        if (!_readers.TryTake(out var reader))
        {
            reader = new ReaderConnection(_connectionString);
        }

        t_reader = reader;
        try
        {
            return query(reader.Connection);
        }
        finally
        {
            t_reader = null;
            _readers.Add(reader);
        }
    }

    private void RunWriter()
    {
        var batch = new List<IWriteOperation>(MaxBatch);
        while (WaitForWrites())
        {
            while (batch.Count < MaxBatch && _writes.Reader.TryRead(out var op))
            {
                batch.Add(op);
            }

            CommitBatch(batch);
            batch.Clear();
            if (_checkpointer.TakeCaughtUp())
            {
                FinishCheckpoint();
            }

            _checkpointer.Nudge();
        }
    }

    /// <summary>
    /// Commits <paramref name="batch"/> as one transaction. A failing operation fails only its caller: a single
    /// statement is undone by SQLite, an operation in a savepoint by rolling that back. An operation written with
    /// <see cref="WriteRepeatableAsync{T}"/> has no savepoint (for intake's commit the savepoint cost 5-10 % of its
    /// CPU per webhook: SAVEPOINT and RELEASE statements and a copy of every page it touched, docs/performance.md,
    /// sixth round), so when it fails part-way the whole transaction is rolled back and the batch runs again
    /// without it: nothing of it is committed, and the others commit as if it had never been queued. An error that
    /// ended the transaction (SQLite does that on I/O errors, a full disk or out of memory) fails the batch.
    /// </summary>
    private void CommitBatch(List<IWriteOperation> batch)
    {
        while (batch.Count > 0)
        {
            try
            {
                using var transaction = _writer.BeginTransaction(deferred: false);
                _transaction = transaction;
                IWriteOperation? undone = null;
                foreach (var op in batch)
                {
                    if (!op.Run(this, _writer))
                    {
                        undone = op;
                        break;
                    }
                }

                if (undone is not null)
                {
                    transaction.Rollback();
                    QueueBodies.AfterRollback();
                    batch.Remove(undone);
                    undone.Complete(); // with its own exception
                    continue;
                }

                QueueBodies.BeforeCommit();
                transaction.Commit();
                QueueBodies.AfterCommit();
                foreach (var op in batch)
                {
                    op.Complete();
                }

                return;
            }
#pragma warning disable CA1031 // every failure of the batch is handed to its callers
            catch (Exception ex)
#pragma warning restore CA1031
            {
                QueueBodies.AfterRollback();
                _logger.LogError(ex, "Embedded database commit of {Count} writes failed", batch.Count);
                var failure = new BackendUnavailableException("embedded-database", "commit failed", ex);
                foreach (var op in batch)
                {
                    op.Fail(failure);
                }

                return;
            }
            finally
            {
                _transaction = null;
            }
        }
    }

    /// <summary>
    /// Blocks the writer's own thread until writes are queued. The writer is the host's one serialisation point, so
    /// it has a thread of its own instead of queueing behind request work on the thread pool each time it wakes:
    /// intake alone at 5,000 webhooks/s went from a p99 of 18-21 ms to 12 ms with it (docs/performance.md).
    /// </summary>
    private bool WaitForWrites()
    {
        var wait = _writes.Reader.WaitToReadAsync();
        return wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// Copies what the background checkpoint left (the writes committed while it ran), so that the next
    /// transaction starts the WAL over (<see cref="WalCheckpointer.TakeCaughtUp"/>).
    /// </summary>
    private void FinishCheckpoint()
    {
        try
        {
            Prepared(_writer, "PRAGMA wal_checkpoint(PASSIVE)").ExecuteNonQuery();
        }
        catch (SqliteException ex)
        {
            _logger.LogDebug(ex, "Writer's WAL checkpoint skipped");
        }
    }

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public async ValueTask DisposeAsync()
    {
        _writes.Writer.TryComplete();
        await _writerLoop.ConfigureAwait(false);
        await _checkpointer.DisposeAsync().ConfigureAwait(false);
        QueueBodies.Dispose();
        foreach (var command in _prepared.Values)
        {
            await command.DisposeAsync().ConfigureAwait(false);
        }

        await _writer.DisposeAsync().ConfigureAwait(false);
        while (_readers.TryTake(out var reader))
        {
            reader.Dispose();
        }

        SqliteConnection.ClearAllPools();
    }

    /// <summary>An open read connection with the statements prepared on it.</summary>
    private sealed class ReaderConnection : IDisposable
    {
        public ReaderConnection(string connectionString)
        {
            Connection = new SqliteConnection(connectionString);
            Connection.Open();
        }

        public SqliteConnection Connection { get; }

        public Dictionary<string, SqliteCommand> Prepared { get; } = new(StringComparer.Ordinal);

        public void Dispose()
        {
            foreach (var command in Prepared.Values)
            {
                command.Dispose();
            }

            Connection.Dispose();
        }
    }

    private interface IWriteOperation
    {
        /// <summary>
        /// Runs the operation: true when it is done (it succeeded, or its one statement failed and SQLite undid it),
        /// false when it failed after changing rows, which only rolling the transaction back undoes.
        /// </summary>
        bool Run(EmbeddedDatabase database, SqliteConnection connection);

        void Complete();

        void Fail(Exception exception);
    }

    private enum WriteIsolation
    {
        Savepoint,
        SingleStatement,
        RerunBatch,
    }

    /// <summary>One caller's write; an exception it throws fails only that caller (<see cref="CommitBatch"/>).</summary>
    private sealed class WriteOperation<T>(Func<SqliteConnection, T> operation, WriteIsolation isolation) : IWriteOperation
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private Exception? _error;

        public Task<T> Completion => _completion.Task;

        public bool Run(EmbeddedDatabase database, SqliteConnection connection)
        {
            _error = null;
            var savepoint = isolation == WriteIsolation.Savepoint;
            if (savepoint)
            {
                database.Prepared(connection, "SAVEPOINT op").ExecuteNonQuery();
            }

            try
            {
                _result = operation(connection);
                if (savepoint)
                {
                    database.Prepared(connection, "RELEASE op").ExecuteNonQuery();
                }

                return true;
            }
#pragma warning disable CA1031 // the caller gets its own exception; the batch goes on
            catch (Exception ex)
#pragma warning restore CA1031
            {
                if (SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) != 0)
                {
                    throw; // the transaction is gone: fail the whole batch
                }

                _error = ex;
                if (savepoint)
                {
                    database.Prepared(connection, "ROLLBACK TO op; RELEASE op").ExecuteNonQuery();
                }

                return isolation != WriteIsolation.RerunBatch;
            }
        }

        public void Complete()
        {
            if (_error is null)
            {
                _completion.TrySetResult(_result!);
            }
            else
            {
                _completion.TrySetException(_error);
            }
        }

        public void Fail(Exception exception) => _completion.TrySetException(exception);
    }
}
