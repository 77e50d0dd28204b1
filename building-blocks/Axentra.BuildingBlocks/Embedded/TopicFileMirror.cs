using System.Text;
using Axentra.BuildingBlocks.PubSub;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// Appends every message published to the mirrored topics to <c>{DataDir}/topics/{topic}.jsonl</c>, one JSON
/// object per line, after the inner publisher accepted it: the standalone host's stand-in for an SNS topic that
/// a person can read with <c>tail -f</c>.
/// </summary>
/// <remarks>
/// Each topic's file stays open between messages (opening, appending and closing per message made concurrent
/// publishers queue on the lock); each line is written and flushed to the OS before the publish completes. A file
/// deleted or moved away while the host runs is noticed within a second and started afresh.
/// </remarks>
public sealed class TopicFileMirror(IMessagePublisher inner, string dataDirectory, IReadOnlySet<string> mirroredTopics) : IMessagePublisher, IDisposable
{
    private static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);
    private readonly Lock _appendLock = new();
    private readonly Dictionary<string, (FileStream Stream, long CheckedAt)> _files = new(StringComparer.Ordinal);

    public async ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> jsonMessage, CancellationToken cancellationToken)
    {
        await inner.PublishAsync(topic, jsonMessage, cancellationToken).ConfigureAwait(false);
        if (!mirroredTopics.Contains(topic))
        {
            return;
        }

        var line = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(jsonMessage.Span).ReplaceLineEndings(" ") + "\n");
        try
        {
            lock (_appendLock)
            {
                var stream = StreamOf(topic);
                stream.Write(line);
                stream.Flush();
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            lock (_appendLock)
            {
                Forget(topic);
            }

            throw new BackendUnavailableException($"topic file {topic}", "cannot append", ex);
        }
    }

    /// <summary>The topic's open file; reopened when it is no longer where the reader looks for it.</summary>
    private FileStream StreamOf(string topic)
    {
        var path = Path.Combine(dataDirectory, "topics", topic + ".jsonl");
        var now = Environment.TickCount64;
        if (_files.TryGetValue(topic, out var open))
        {
            if (now - open.CheckedAt < RecheckInterval.TotalMilliseconds)
            {
                return open.Stream;
            }

            if (File.Exists(path))
            {
                _files[topic] = (open.Stream, now);
                return open.Stream;
            }

            Forget(topic);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        _files[topic] = (stream, now);
        return stream;
    }

    private void Forget(string topic)
    {
        if (_files.Remove(topic, out var open))
        {
            open.Stream.Dispose();
        }
    }

    public void Dispose()
    {
        lock (_appendLock)
        {
            foreach (var topic in _files.Keys.ToList())
            {
                Forget(topic);
            }
        }
    }
}
