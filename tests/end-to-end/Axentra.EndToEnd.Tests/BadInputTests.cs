using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Axentra.EndToEnd.Tests.Support;

namespace Axentra.EndToEnd.Tests;

/// <summary>What a misbehaving or hostile sender gets: a 4xx ProblemDetails, never a 5xx, and nothing stored.</summary>
public sealed class BadInputTests(PublishedStandalone build) : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private StandaloneProcess _host = null!;

    public async ValueTask InitializeAsync() => _host = await StandaloneProcess.StartAsync(build);

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    public static TheoryData<string, string, string?, int, string?> Cases() => new()
    {
        { "no credential", """{"event_type":"new_store","store_id":"s1"}""", null, 401, null },
        { "wrong key", """{"event_type":"new_store","store_id":"s1"}""", "not-a-key", 401, null },
        { "an ops key cannot post", """{"event_type":"new_store","store_id":"s1"}""", StandaloneProcess.OpsKey, 401, null },
        { "malformed JSON", """{"event_type": "new_store", """, StandaloneProcess.WebhookKey, 400, "malformed_json" },
        { "array root", """[{"event_type":"new_store"}]""", StandaloneProcess.WebhookKey, 400, "not_an_object" },
        { "nesting over 64", new string('[', 70) + new string(']', 70), StandaloneProcess.WebhookKey, 400, "too_deep" },
        { "deep object", "{\"a\":" + string.Concat(Enumerable.Repeat("{\"a\":", 70)) + "1" + new string('}', 71), StandaloneProcess.WebhookKey, 400, "too_deep" },
        { "path traversal id", """{"event_type":"new_product","products":{"product_id":"../../etc","store_id":"s1"}}""", StandaloneProcess.WebhookKey, 400, "invalid_id" },
        { "slash in store id", """{"event_type":"new_store","store_id":"a/b"}""", StandaloneProcess.WebhookKey, 400, "invalid_id" },
        { "a member name twice", """{"event_type":"new_store","store_id":"s1","x":1,"x":2}""", StandaloneProcess.WebhookKey, 400, "duplicate_member" },
        { "an unpaired surrogate", """{"event_type":"new_store","store_id":"s1","n":"\ud800"}""", StandaloneProcess.WebhookKey, 400, "invalid_unicode" },
        { "a number beyond a double", """{"event_type":"new_store","store_id":"s1","n":1e400}""", StandaloneProcess.WebhookKey, 400, "number_out_of_range" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Refused_with_a_problem_and_nothing_stored(string why, string body, string? apiKey, int status, string? code)
    {
        using var response = await _host.PostWebhookAsync(Encoding.UTF8.GetBytes(body), apiKey: apiKey);
        Assert.True((int)response.StatusCode == status, $"{why}: expected {status}, got {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (code is not null)
        {
            Assert.Equal(code, (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!["code"]);
        }

        Assert.False(Directory.Exists(Path.Combine(_host.DataDirectory, "axentra-webhook-raw-audit", "s1")));
    }

    [Fact]
    public async Task A_body_shorter_than_its_content_length_is_a_4xx_not_a_server_error()
    {
        // Kestrel gives up on the missing bytes after its minimum data rate's 5 s grace; the sender gets a 4xx
        // ProblemDetails (408 here), as for any other fault of its own.
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(_host.BaseAddress.Host, _host.BaseAddress.Port, Ct);
        var stream = tcp.GetStream();
        const string body = """{"event_type":"new_store","store_id":"s1"}""";
        var head = $"POST {StandaloneProcess.WebhookPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: {StandaloneProcess.WebhookKey}\r\n"
            + $"Content-Type: application/json\r\nContent-Length: {body.Length + 60}\r\n\r\n{body}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), Ct);

        using var reader = new StreamReader(stream, Encoding.ASCII);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var statusLine = await reader.ReadLineAsync(timeout.Token);

        Assert.NotNull(statusLine);
        var status = int.Parse(statusLine!.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(status is >= 400 and < 500, statusLine);
        Assert.False(Directory.Exists(Path.Combine(_host.DataDirectory, "axentra-webhook-raw-audit", "s1")));
    }

    [Fact]
    public async Task Oversized_and_non_JSON_bodies_are_413_and_415()
    {
        var big = Encoding.UTF8.GetBytes("{\"event_type\":\"new_store\",\"pad\":\"" + new string('x', 300 * 1024) + "\"}");
        using (var response = await _host.PostWebhookAsync(big))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }

        using (var response = await _host.PostWebhookAsync(Encoding.UTF8.GetBytes("""{"event_type":"new_store"}"""), contentType: "text/plain"))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        }

        // EventBridge's content type carries a charset: accepted.
        using (var response = await _host.PostWebhookAsync(Payloads.Store("new_store", Payloads.NewId("store"), "x.example"), contentType: "application/json; charset=utf-8"))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
    }

    [Fact]
    public async Task Ops_routes_need_the_ops_key_and_a_webhook_key_never_opens_them()
    {
        foreach (var path in new[] { "/events/abc-1", "/audit/events/abc-1", "/catalog/products/p1", "/admin/dead-letters" })
        {
            using var anonymous = await _host.OpsAsync(HttpMethod.Get, path, apiKey: null);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            using var sender = await _host.OpsAsync(HttpMethod.Get, path, apiKey: StandaloneProcess.WebhookKey);
            Assert.Equal(HttpStatusCode.Unauthorized, sender.StatusCode);
            using var ops = await _host.OpsAsync(HttpMethod.Get, path);
            Assert.True((int)ops.StatusCode < 500, $"{path}: {(int)ops.StatusCode}");
            Assert.NotEqual(HttpStatusCode.Unauthorized, ops.StatusCode);
        }

        using var invalid = await _host.OpsAsync(HttpMethod.Get, "/events/..%2F..%2Fetc");
        Assert.True((int)invalid.StatusCode is 400 or 404, $"{(int)invalid.StatusCode}");
    }
}
