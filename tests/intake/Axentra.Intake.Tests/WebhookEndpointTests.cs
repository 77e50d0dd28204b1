using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Axentra.BuildingBlocks.Registry;
using Axentra.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace Axentra.Intake.Tests;

/// <summary>Every row of design.md §3's endpoint table, through the real HTTP pipeline of the standalone host.</summary>
public sealed class WebhookEndpointTests : IDisposable
{
    private const string NewProduct = """{"event_type":"new_product","products":{"name":"Vitamin D3","product_id":"p-1","store_id":"s-1","product_variants":[{"price":19.99}]}}""";
    private readonly StandaloneApp _app = new();
    private readonly HttpClient _client;

    public WebhookEndpointTests() => _client = _app.CreateClient();

    public void Dispose() => _app.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_new_event_is_accepted_with_its_identity_and_registered()
    {
        var response = await _client.SendAsync(StandaloneApp.Webhook(NewProduct), Ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var eventId = body.GetProperty("event_id").GetString()!;
        var hash = body.GetProperty("payload_hash").GetString()!;
        Assert.Matches("^[0-9a-f]{64}$", hash);
        Assert.Matches($"^{hash[..16]}-[0-9]{{10}}$", eventId);
        Assert.Equal("product_create", body.GetProperty("event_type").GetString());
        Assert.Equal("s-1", body.GetProperty("store_id").GetString());
        Assert.Equal("p-1", body.GetProperty("product_id").GetString());
        Assert.Matches($"^s-1/product_create/[0-9]{{4}}/[0-9]{{2}}/[0-9]{{2}}/{eventId}\\.json$", body.GetProperty("s3_key").GetString());
        Assert.False(body.GetProperty("duplicate").GetBoolean());
        Assert.Equal(1, _app.Publisher.Published);

        var registry = _app.Services.GetRequiredService<EventRegistry>();
        var view = await registry.GetAsync(eventId, Ct);
        Assert.NotNull(view);
        Assert.Equal(hash, view.Record.PayloadHash);
        Assert.Equal(RegistryStatus.Accepted, view.Record.Status);
        var ttl = DateTimeOffset.FromUnixTimeSeconds(view.Record.Ttl);
        Assert.InRange(ttl, DateTimeOffset.UtcNow.AddYears(7).AddDays(-3), DateTimeOffset.UtcNow.AddYears(7).AddDays(3));
    }

    [Fact]
    public async Task A_redelivery_even_re_serialised_gets_200_with_the_original_identity()
    {
        var first = await (await _client.SendAsync(StandaloneApp.Webhook(NewProduct), Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        const string reserialised = """
            { "products": { "product_variants": [ { "price": 19.990 } ], "store_id": "s-1", "product_id": "p-1", "name": "Vitamin D3" },
              "event_type": "new_product" }
            """;
        var response = await _client.SendAsync(StandaloneApp.Webhook(reserialised), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var again = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(again.GetProperty("duplicate").GetBoolean());
        foreach (var field in new[] { "event_id", "payload_hash", "event_type", "store_id", "product_id", "s3_key" })
        {
            Assert.Equal(first.GetProperty(field).GetString(), again.GetProperty(field).GetString());
        }

        Assert.Equal(1, _app.Publisher.Published);
    }

    [Fact]
    public async Task The_webhook_id_header_is_the_dedupe_key_when_present()
    {
        var a = StandaloneApp.Webhook("""{"event_type":"new_store","store_id":"s-9"}""");
        a.Headers.Add("webhook-id", "msg_1");
        var b = StandaloneApp.Webhook("""{"event_type":"updated_store","store_id":"s-9"}""");
        b.Headers.Add("webhook-id", "msg_1");
        var c = StandaloneApp.Webhook("""{"event_type":"new_store","store_id":"s-9"}""");
        c.Headers.Add("webhook-id", "msg_2");

        Assert.Equal(HttpStatusCode.Accepted, (await _client.SendAsync(a, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(b, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await _client.SendAsync(c, Ct)).StatusCode);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON; charset=UTF-8")]
    public async Task Json_content_types_with_parameters_are_accepted(string contentType) =>
        Assert.Equal(HttpStatusCode.Accepted, (await _client.SendAsync(StandaloneApp.Webhook(NewProduct, contentType: contentType), Ct)).StatusCode);

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/json; charset=iso-8859-1")]
    public async Task Other_content_types_get_415(string contentType)
    {
        var response = await _client.SendAsync(StandaloneApp.Webhook(NewProduct, contentType: contentType), Ct);
        await AssertProblem(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task A_missing_content_type_gets_415()
    {
        var request = StandaloneApp.Webhook(NewProduct);
        request.Content!.Headers.ContentType = null;
        await AssertProblem(await _client.SendAsync(request, Ct), HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData("{", "malformed_json")]
    [InlineData("[]", "not_an_object")]
    [InlineData("""{"store_id":"../x"}""", "invalid_id")]
    [InlineData("""{"products":{"product_id":"a/../../b","store_id":"s"}}""", "invalid_id")]
    [InlineData("""{"event_type":"new_store","store_id":"dupB","x":1,"x":2}""", "duplicate_member")]
    [InlineData("""{"event_type":"new_store","store_id":"sur","n":"\ud800"}""", "invalid_unicode")]
    [InlineData("""{"event_type":"new_store","store_id":"big","n":1e400}""", "number_out_of_range")]
    public async Task Bad_bodies_get_400_problem_details_saying_which(string json, string code)
    {
        var response = await _client.SendAsync(StandaloneApp.Webhook(json), Ct);
        var problem = await AssertProblem(response, HttpStatusCode.BadRequest);
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
        Assert.Equal(0, _app.Publisher.Published);
    }

    [Fact]
    public async Task Problem_details_keep_their_text_as_written()
    {
        var response = await _client.SendAsync(StandaloneApp.Webhook("""{"event_type":"new_store","store_id":"dupC","x":1,"x":2}"""), Ct);
        await AssertProblem(response, HttpStatusCode.BadRequest);

        // Not "The member name \u0027x\u0027 … RFC 7493 \u00A72.3" (PlatformJson).
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.Contains("The member name 'x' appears twice in one object (I-JSON, RFC 7493 §2.3).", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bytes_that_are_not_utf8_get_400_not_a_server_error()
    {
        var body = Encoding.UTF8.GetBytes("{\"event_type\":\"new_store\",\"store_id\":\"x\",\"n\":\"").Append((byte)0xff).Concat(Encoding.UTF8.GetBytes("\"}")).ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/supabase") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("x-api-key", StandaloneApp.ApiKey);

        var problem = await AssertProblem(await _client.SendAsync(request, Ct), HttpStatusCode.BadRequest);

        Assert.Equal("invalid_unicode", problem.GetProperty("code").GetString());
        Assert.Equal(0, _app.Publisher.Published);
    }

    [Fact]
    public async Task Nesting_deeper_than_64_gets_400()
    {
        var json = string.Concat(Enumerable.Repeat("{\"a\":", 65)) + "1" + new string('}', 65);
        var problem = await AssertProblem(await _client.SendAsync(StandaloneApp.Webhook(json), Ct), HttpStatusCode.BadRequest);
        Assert.Equal("too_deep", problem.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Nothing_is_written_outside_the_data_directory_for_a_traversal_attempt()
    {
        var response = await _client.SendAsync(StandaloneApp.Webhook("""{"event_type":"new_store","store_id":"..","store_domain":"x"}"""), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal([_app.DataDirectory], Directory.GetFileSystemEntries(_app.Root));
    }

    [Fact]
    public async Task Health_and_readiness_answer()
    {
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/healthz", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/readyz", Ct)).StatusCode);
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_the_endpoint_its_bodies_and_errors()
    {
        var document = await _client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", Ct);
        var post = document.GetProperty("paths").GetProperty("/webhooks/supabase").GetProperty("post");
        Assert.True(post.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        var responses = post.GetProperty("responses");
        foreach (var status in new[] { "200", "202", "400", "401", "413", "415", "429", "503" })
        {
            Assert.True(responses.TryGetProperty(status, out _), $"response {status} is documented");
        }

        // How to authenticate: any one of the sender schemes on the webhook route, the ops key on ops routes.
        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("x-api-key", schemes.GetProperty("webhookApiKey").GetProperty("name").GetString());
        Assert.Equal("header", schemes.GetProperty("webhookApiKey").GetProperty("in").GetString());
        Assert.Equal("bearer", schemes.GetProperty("webhookBearer").GetProperty("scheme").GetString());
        Assert.Equal("basic", schemes.GetProperty("webhookBasic").GetProperty("scheme").GetString());
        Assert.Equal(["webhookApiKey", "webhookBearer", "webhookBasic"],
            post.GetProperty("security").EnumerateArray().Select(r => r.EnumerateObject().Single().Name));
        var ops = document.GetProperty("paths").GetProperty("/events/{eventId}").GetProperty("get");
        Assert.Equal("opsApiKey", ops.GetProperty("security").EnumerateArray().Single().EnumerateObject().Single().Name);
        foreach (var status in new[] { "200", "400", "401", "404", "429" })
        {
            Assert.True(ops.GetProperty("responses").TryGetProperty(status, out _), $"GET /events/{{eventId}}: response {status} is documented");
        }

        Assert.True(document.GetProperty("paths").GetProperty("/catalog/stores/{storeId}/products").GetProperty("get").GetProperty("responses").TryGetProperty("200", out _));
    }

    [Fact]
    public async Task A_backend_outage_is_a_503_problem_with_retry_after_even_for_a_sender_that_accepts_only_text()
    {
        // ASP.NET Core's ProblemDetails writer declines an Accept without JSON: the 503 used to have no body at all.
        _app.Publisher.FailNext(1);
        var request = StandaloneApp.Webhook("""{"event_type":"new_store","store_id":"s-accept","store_domain":"a.example"}""");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/plain"));

        var response = await _client.SendAsync(request, Ct);

        var problem = await AssertProblem(response, HttpStatusCode.ServiceUnavailable);
        Assert.True(response.Headers.Contains("Retry-After"));
        Assert.True(problem.TryGetProperty("trace_id", out _));
    }

    [Theory]
    [InlineData("GET", "/webhooks/supabase", HttpStatusCode.MethodNotAllowed)]
    [InlineData("POST", "/nowhere", HttpStatusCode.NotFound)]
    public async Task Routing_errors_are_problem_details_even_for_a_caller_that_accepts_only_text(string method, string path, HttpStatusCode status)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/plain"));

        await AssertProblem(await _client.SendAsync(request, Ct), status); // was text/plain "Status Code: 405; …"
    }

    internal static async Task<JsonElement> AssertProblem(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        return problem;
    }
}

public sealed class WebhookLimitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_body_over_the_limit_gets_413_with_or_without_content_length()
    {
        using var app = new StandaloneApp(new() { ["Intake:MaxBodyBytes"] = "1024" });
        using var client = app.CreateClient();
        var big = $$"""{"store_id":"s","pad":"{{new string('x', 1100)}}"}""";
        await WebhookEndpointTests.AssertProblem(await client.SendAsync(StandaloneApp.Webhook(big), Ct), HttpStatusCode.RequestEntityTooLarge);

        var chunked = StandaloneApp.Webhook("x");
        chunked.Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunked.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json");
        chunked.Headers.TransferEncodingChunked = true;
        await WebhookEndpointTests.AssertProblem(await client.SendAsync(chunked, Ct), HttpStatusCode.RequestEntityTooLarge);

        var fits = $$"""{"store_id":"s","pad":"{{new string('x', 1024 - 25)}}"}""";
        Assert.Equal(1024, Encoding.UTF8.GetByteCount(fits));
        Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(StandaloneApp.Webhook(fits), Ct)).StatusCode);
    }

    [Fact]
    public async Task The_default_limit_is_256_KiB()
    {
        using var app = new StandaloneApp();
        using var client = app.CreateClient();
        var over = $$"""{"store_id":"s","pad":"{{new string('x', 256 * 1024)}}"}""";
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await client.SendAsync(StandaloneApp.Webhook(over), Ct)).StatusCode);
    }

    [Fact]
    public async Task Over_the_rate_limit_a_credential_gets_429_with_retry_after_and_others_are_unaffected()
    {
        using var app = new StandaloneApp(new() { ["Intake:RateLimit:PermitsPerSecond"] = "1", ["Intake:RateLimit:Burst"] = "3" });
        using var client = app.CreateClient();
        // Warm the host up on another credential (its own bucket), so the six requests below take milliseconds.
        Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(StandaloneApp.Webhook("""{"store_id":"s","n":"warm-up"}""", StandaloneApp.RotatedApiKey), Ct)).StatusCode);
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 6; i++)
        {
            var response = await client.SendAsync(StandaloneApp.Webhook($$"""{"store_id":"s","n":{{i}}}"""), Ct);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
        }

        // The burst of 3, plus one permit for each whole second the loop took on a slow machine.
        Assert.InRange(statuses.Count(s => s == HttpStatusCode.Accepted), 3, 3 + (int)elapsed.Elapsed.TotalSeconds);
        Assert.NotNull(limited);
        await WebhookEndpointTests.AssertProblem(limited, HttpStatusCode.TooManyRequests);
        Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);

        var other = await client.SendAsync(StandaloneApp.Webhook("""{"store_id":"s","n":"rotated"}""", StandaloneApp.RotatedApiKey), Ct);
        Assert.Equal(HttpStatusCode.Accepted, other.StatusCode);
    }

    [Fact]
    public async Task Forged_signatures_are_401_and_spend_nothing_of_the_signed_senders_rate_limit()
    {
        // Every signed sender shares the one "signature" credential: a forger must not be able to drain it.
        using var app = new StandaloneApp(new() { ["Intake:RateLimit:PermitsPerSecond"] = "1", ["Intake:RateLimit:Burst"] = "2" });
        using var client = app.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            var forged = StandaloneApp.Webhook($$"""{"store_id":"s","n":{{i}}}""", apiKey: null);
            forged.Headers.Add("webhook-id", $"msg_forged_{i}");
            forged.Headers.Add("webhook-timestamp", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
            forged.Headers.Add("webhook-signature", "v1,AAAA");
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(forged, Ct)).StatusCode);
        }

        var real = StandaloneApp.SignedWebhook("""{"store_id":"s","n":"real"}""", StandaloneApp.SigningSecret, "msg_real", DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(real, Ct)).StatusCode);
    }

    [Theory]
    [InlineData("application/json; charset=\"utf-8\"")]
    [InlineData("application/json; charset=UTF-8")]
    public async Task A_utf8_charset_is_accepted_quoted_or_not(string contentType)
    {
        using var app = new StandaloneApp();
        using var client = app.CreateClient();
        var request = StandaloneApp.Webhook("""{"store_id":"s-ct","n":1}""");
        request.Content!.Headers.Remove("Content-Type");
        Assert.True(request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType));
        Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(request, Ct)).StatusCode);
    }

    [Fact]
    public async Task After_the_dedupe_window_an_identical_payload_is_a_new_event()
    {
        using var app = new StandaloneApp(new() { ["Intake:DedupeWindow"] = "00:00:03" });
        using var client = app.CreateClient();
        // A warm host answers the redelivery below well inside the window, even on a slow machine.
        Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(StandaloneApp.Webhook("""{"store_id":"s","n":"warm-up"}"""), Ct)).StatusCode);
        const string flip = """{"event_type":"product_update","products":{"product_id":"p","store_id":"s","product_variants":[{"price":1}]}}""";
        var first = await client.SendAsync(StandaloneApp.Webhook(flip), Ct);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(StandaloneApp.Webhook(flip), Ct)).StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(3.5), Ct);
        var later = await client.SendAsync(StandaloneApp.Webhook(flip), Ct);
        Assert.Equal(HttpStatusCode.Accepted, later.StatusCode);
        Assert.NotEqual(
            (await first.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("event_id").GetString(),
            (await later.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("event_id").GetString());
    }
}
