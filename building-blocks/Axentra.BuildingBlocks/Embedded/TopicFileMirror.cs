using System.Text;
using Axentra.BuildingBlocks.PubSub;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// Appends every message published to the mirrored topics to <c>{DataDir}/topics/{topic}.jsonl</c>, one JSON
/// object per line, after the inner publisher accepted it: the standalone host's stand-in for an SNS topic that
/// a person can read with <c>tail -f</c>.
/// </summary>
public sealed class TopicFileMirror(IMessagePublisher inner, string dataDirectory, IReadOnlySet<string> mirroredTopics) : IMessagePublisher
{
    private readonly Lock _appendLock = new();

    public async ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> jsonMessage, CancellationToken cancellationToken)
    {
        await inner.PublishAsync(topic, jsonMessage, cancellationToken).ConfigureAwait(false);
        if (!mirroredTopics.Contains(topic))
        {
            return;
        }

        var directory = Path.Combine(dataDirectory, "topics");
        var line = Encoding.UTF8.GetString(jsonMessage.Span).ReplaceLineEndings(" ") + "\n";
        try
        {
            lock (_appendLock)
            {
                Directory.CreateDirectory(directory);
                File.AppendAllText(Path.Combine(directory, topic + ".jsonl"), line);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BackendUnavailableException($"topic file {topic}", "cannot append", ex);
        }
    }
}
