using System.Text;
using Axentra.BuildingBlocks.Embedded;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.Tests.Support;

namespace Axentra.BuildingBlocks.Tests.PubSub;

/// <summary>The standalone host's readable copy of a topic: <c>topics/{topic}.jsonl</c>.</summary>
public sealed class TopicFileMirrorTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly TopicFileMirror _mirror;

    public TopicFileMirrorTests() =>
        _mirror = new TopicFileMirror(new NoBroker(), _directory.Path, new HashSet<string>(StringComparer.Ordinal) { "kb" });

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string FileOf(string topic) => Path.Combine(_directory.Path, "topics", topic + ".jsonl");

    public void Dispose()
    {
        _mirror.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public async Task Each_message_of_a_mirrored_topic_is_one_line_readable_at_once_and_other_topics_are_not_mirrored()
    {
        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => _mirror.PublishAsync("kb", Encoding.UTF8.GetBytes($"{{\n\"n\": {i}}}"), Ct).AsTask()));
        await _mirror.PublishAsync("other", "{}"u8.ToArray(), Ct);

        var lines = await File.ReadAllLinesAsync(FileOf("kb"), Ct);
        Assert.Equal(50, lines.Length);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"{{ \"n\": {i}}}").Order(StringComparer.Ordinal), lines.Order(StringComparer.Ordinal));
        Assert.False(File.Exists(FileOf("other")));
    }

    [Fact]
    public async Task A_file_removed_while_the_host_runs_is_started_afresh()
    {
        await _mirror.PublishAsync("kb", "{\"n\":1}"u8.ToArray(), Ct);
        File.Delete(FileOf("kb"));

        await Task.Delay(TimeSpan.FromSeconds(1.2), Ct);
        await _mirror.PublishAsync("kb", "{\"n\":2}"u8.ToArray(), Ct);

        Assert.Equal(["{\"n\":2}"], await File.ReadAllLinesAsync(FileOf("kb"), Ct));
    }

    private sealed class NoBroker : IMessagePublisher
    {
        public ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> jsonMessage, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
