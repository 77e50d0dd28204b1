using System.Text;
using System.Text.Json.Nodes;
using Axentra.EndToEnd.Tests.Support;

namespace Axentra.EndToEnd.Tests;

/// <summary>
/// The published host's own log stream, as an operator's collector reads it: JSON lines in which every line about an
/// event names its trace, the event and its store, and none carries payload content or a credential.
/// </summary>
public sealed class LogTests(PublishedStandalone build)
{
    [Fact]
    public async Task Lines_about_an_event_name_its_trace_event_and_store_and_none_quotes_the_payload_or_a_key()
    {
        await using var host = await StandaloneProcess.StartAsync(build);
        // No store_id: intake generates one and says so in a warning, the line this test reads.
        const string marker = "Vitamin-D3-Marker-4711";
        var body = $$$"""{"event_type":"new_product","products":{"name":"{{{marker}}}","product_id":"p-logs","product_variants":[{"price":19.99}]}}""";
        var eventId = (string)(await host.AcceptAsync(Encoding.UTF8.GetBytes(body)))["event_id"]!;
        await host.WaitForStatusAsync(eventId);

        var lines = host.OutputLines.Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        // The ops access log names the event in the path of this test's own GET /events/{id}: a line about a request.
        var aboutEvent = lines.Where(l => l.ToJsonString().Contains(eventId, StringComparison.Ordinal) && (string?)l["Category"] != "Axentra.OpsAccess").ToList();

        Assert.NotEmpty(aboutEvent);
        Assert.All(aboutEvent, line =>
        {
            var scopes = line["Scopes"]!.AsArray().OfType<JsonObject>().SelectMany(s => s).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value?.ToString());
            Assert.Matches("^[0-9a-f]{32}$", scopes.GetValueOrDefault("TraceId") ?? "");
            Assert.True(eventId == scopes.GetValueOrDefault("event_id"), line.ToJsonString());
            Assert.False(string.IsNullOrEmpty(scopes.GetValueOrDefault("store_id")), line.ToJsonString());
        });
        Assert.DoesNotContain(host.OutputLines, l => l.Contains(marker, StringComparison.Ordinal));
        Assert.DoesNotContain(host.OutputLines, l => l.Contains(StandaloneProcess.WebhookKey, StringComparison.Ordinal) || l.Contains(StandaloneProcess.OpsKey, StringComparison.Ordinal));

        // Text as written (PlatformJson): the start-up warning about Ben's tables, not "Ben\u0027s tables".
        Assert.Contains(host.OutputLines, l => l.StartsWith('{') && l.Contains("Ben's tables are not configured", StringComparison.Ordinal));
    }
}
