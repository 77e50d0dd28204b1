using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Axentra.ServiceDefaults;
using Axentra.TestSupport;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Options;

namespace Axentra.Intake.Tests;

/// <summary>Every credential scheme, accepted and refused, through the real HTTP pipeline.</summary>
public sealed class CredentialTests : IDisposable
{
    private readonly StandaloneApp _app = new();
    private readonly HttpClient _client;
    private int _counter;

    public CredentialTests() => _client = _app.CreateClient();

    public void Dispose() => _app.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Body() => $$"""{"store_id":"s-auth","n":{{Interlocked.Increment(ref _counter)}}}""";

    private Task<HttpResponseMessage> Send(HttpRequestMessage request) => _client.SendAsync(request, Ct);

    [Theory]
    [InlineData(StandaloneApp.ApiKey)]
    [InlineData(StandaloneApp.RotatedApiKey)]
    public async Task Each_configured_api_key_is_accepted(string key) =>
        Assert.Equal(HttpStatusCode.Accepted, (await Send(StandaloneApp.Webhook(Body(), key))).StatusCode);

    [Theory]
    [InlineData("wrong-key")]
    [InlineData("")]
    [InlineData(StandaloneApp.OpsKey)]
    [InlineData(StandaloneApp.ApiKey + " ")]
    public async Task A_wrong_key_or_an_ops_key_is_refused(string key) =>
        await WebhookEndpointTests.AssertProblem(await Send(StandaloneApp.Webhook(Body(), key)), HttpStatusCode.Unauthorized);

    [Fact]
    public async Task No_credential_at_all_is_refused_with_a_challenge_naming_the_configured_schemes()
    {
        var response = await Send(StandaloneApp.Webhook(Body(), apiKey: null));

        await WebhookEndpointTests.AssertProblem(response, HttpStatusCode.Unauthorized);
        var challenge = string.Join(", ", response.Headers.WwwAuthenticate.Select(h => h.ToString()));
        Assert.Contains("ApiKey header=\"x-api-key\"", challenge, StringComparison.Ordinal); // RFC 9110: a 401 says how to authenticate
        Assert.Contains("Bearer", challenge, StringComparison.Ordinal);
        Assert.Contains("Basic", challenge, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authentication_comes_before_any_look_at_the_body()
    {
        var response = await Send(StandaloneApp.Webhook("not json", apiKey: "wrong", contentType: "text/plain"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("Bearer", StandaloneApp.BearerToken, HttpStatusCode.Accepted)]
    [InlineData("bearer", StandaloneApp.BearerToken, HttpStatusCode.Accepted)]
    [InlineData("Bearer", "not-the-token", HttpStatusCode.Unauthorized)]
    [InlineData("Bearer", StandaloneApp.ApiKey, HttpStatusCode.Unauthorized)]
    public async Task Bearer_tokens(string scheme, string token, HttpStatusCode expected)
    {
        var request = StandaloneApp.Webhook(Body(), apiKey: null);
        request.Headers.Authorization = new AuthenticationHeaderValue(scheme, token);
        Assert.Equal(expected, (await Send(request)).StatusCode);
    }

    [Theory]
    [InlineData(StandaloneApp.BasicUser, StandaloneApp.BasicPassword, HttpStatusCode.Accepted)]
    [InlineData(StandaloneApp.BasicUser, "wrong", HttpStatusCode.Unauthorized)]
    [InlineData("someone", StandaloneApp.BasicPassword, HttpStatusCode.Unauthorized)]
    public async Task Basic_credentials(string user, string password, HttpStatusCode expected)
    {
        var request = StandaloneApp.Webhook(Body(), apiKey: null);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        Assert.Equal(expected, (await Send(request)).StatusCode);
    }

    [Fact]
    public async Task Garbage_in_the_authorization_header_is_a_401_not_a_500()
    {
        var request = StandaloneApp.Webhook(Body(), apiKey: null);
        request.Headers.TryAddWithoutValidation("Authorization", "Basic %%%not-base64%%%");
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(request)).StatusCode);
    }

    [Fact]
    public async Task A_Standard_Webhooks_signature_is_accepted_with_either_secret()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await Send(StandaloneApp.SignedWebhook(Body(), StandaloneApp.SigningSecret, "msg_a", DateTimeOffset.UtcNow))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await Send(StandaloneApp.SignedWebhook(Body(), StandaloneApp.RotatedSigningSecret, "msg_b", DateTimeOffset.UtcNow))).StatusCode);
    }

    [Fact]
    public async Task Several_signatures_pass_when_any_one_matches()
    {
        var body = Body();
        var request = StandaloneApp.SignedWebhook(body, StandaloneApp.SigningSecret, "msg_c", DateTimeOffset.UtcNow);
        var valid = request.Headers.GetValues("webhook-signature").Single();
        request.Headers.Remove("webhook-signature");
        request.Headers.Add("webhook-signature", $"v1,{Convert.ToBase64String(new byte[32])} v2,ignored {valid}");
        Assert.Equal(HttpStatusCode.Accepted, (await Send(request)).StatusCode);
    }

    [Theory]
    [InlineData(-6 * 60)]
    [InlineData(6 * 60)]
    public async Task A_stale_or_future_timestamp_is_refused(int offsetSeconds)
    {
        var request = StandaloneApp.SignedWebhook(Body(), StandaloneApp.SigningSecret, "msg_d", DateTimeOffset.UtcNow.AddSeconds(offsetSeconds));
        var response = await Send(request);
        var problem = await WebhookEndpointTests.AssertProblem(response, HttpStatusCode.Unauthorized);
        Assert.Contains("tolerance", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.NotEmpty(response.Headers.WwwAuthenticate); // a signature's 401 is a 401 like any other (RFC 9110)
    }

    [Fact]
    public async Task Timestamps_inside_the_five_minute_tolerance_pass() =>
        Assert.Equal(HttpStatusCode.Accepted, (await Send(StandaloneApp.SignedWebhook(Body(), StandaloneApp.SigningSecret, "msg_e", DateTimeOffset.UtcNow.AddMinutes(-4)))).StatusCode);

    [Fact]
    public async Task A_tampered_body_or_a_re_signed_timestamp_is_refused()
    {
        var signed = StandaloneApp.SignedWebhook(Body(), StandaloneApp.SigningSecret, "msg_f", DateTimeOffset.UtcNow);
        signed.Content = new StringContent(Body(), Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(signed)).StatusCode);

        var replayed = StandaloneApp.SignedWebhook(Body(), StandaloneApp.SigningSecret, "msg_g", DateTimeOffset.UtcNow.AddMinutes(-1));
        replayed.Headers.Remove("webhook-timestamp");
        replayed.Headers.Add("webhook-timestamp", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(replayed)).StatusCode);
    }

    [Fact]
    public async Task A_replay_inside_the_tolerance_is_answered_as_the_duplicate_it_is()
    {
        var body = Body();
        var at = DateTimeOffset.UtcNow;
        Assert.Equal(HttpStatusCode.Accepted, (await Send(StandaloneApp.SignedWebhook(body, StandaloneApp.SigningSecret, "msg_h", at))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Send(StandaloneApp.SignedWebhook(body, StandaloneApp.SigningSecret, "msg_h", at))).StatusCode);
        Assert.Equal(1, _app.Publisher.Published);
    }

    [Fact]
    public async Task A_signature_from_an_unknown_secret_is_refused()
    {
        var other = "whsec_" + Convert.ToBase64String(Encoding.ASCII.GetBytes("someone-else's-secret"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(StandaloneApp.SignedWebhook(Body(), other, "msg_i", DateTimeOffset.UtcNow))).StatusCode);
    }
}

public sealed class StartupCredentialTests
{
    [Fact]
    public void A_distributed_intake_with_no_credential_refuses_to_start()
    {
        var failure = StartupFailure(b => b.UseSetting("Logging:LogLevel:Default", "None"));
        Assert.Contains(Chain(failure), e => e is OptionsValidationException && e.Message.Contains("No webhook credential is configured", StringComparison.Ordinal));
    }

    [Fact]
    public void An_api_key_shared_by_senders_and_operators_refuses_to_start()
    {
        var failure = StartupFailure(b => b
            .UseSetting("Intake:Auth:ApiKeys:0", "same")
            .UseSetting("Ops:Auth:ApiKeys:0", "same"));
        Assert.Contains(Chain(failure), e => e is OptionsValidationException && e.Message.Contains("both for webhook senders", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Intake:Auth:BearerTokens:0")]
    [InlineData("Intake:Auth:Basic:Password")]
    [InlineData("Intake:Auth:SigningSecrets:0")]
    public void An_operator_key_equal_to_any_sender_secret_refuses_to_start(string senderSetting)
    {
        // A sender holding it could send it as x-api-key and open the ops routes (design.md §3).
        var secret = "whsec_" + Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes("shared-by-a-sender-and-an-operator"));
        var failure = StartupFailure(b => b
            .UseSetting("Intake:Auth:Basic:Username", "eventbridge")
            .UseSetting(senderSetting, secret)
            .UseSetting("Ops:Auth:ApiKeys:0", secret));
        Assert.Contains(Chain(failure), e => e is OptionsValidationException && e.Message.Contains("both for webhook senders", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("whsec_")]
    [InlineData("whsec_AA==")] // one byte: 256 guesses
    public void A_signing_secret_too_short_to_be_secret_refuses_to_start(string secret)
    {
        var failure = StartupFailure(b => b.UseSetting("Intake:Auth:SigningSecrets:0", secret));
        Assert.Contains(Chain(failure), e => e is OptionsValidationException && e.Message.Contains("at least 24 bytes", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Intake:Auth:ApiKeys:0")]
    [InlineData("Intake:Auth:BearerTokens:0")]
    public void An_empty_credential_entry_refuses_to_start(string setting)
    {
        // An unset secret (say a missing Kubernetes secret key) used to count as "a credential is configured".
        var failure = StartupFailure(b => b.UseSetting("Logging:LogLevel:Default", "None").UseSetting(setting, ""));
        Assert.Contains(Chain(failure), e => e is OptionsValidationException && e.Message.Contains("entry is empty", StringComparison.Ordinal));
    }

    [Fact]
    public void A_deployment_that_requires_the_dapr_app_token_refuses_to_start_without_one()
    {
        // The chart sets Dapr:RequireAppApiToken: a missing token must not leave the subscription routes open (DaprAppTokenTests).
        var failure = StartupFailure(b => b
            .UseSetting("Intake:Auth:ApiKeys:0", "sender")
            .UseSetting(Axentra.BuildingBlocks.Dapr.DaprAppToken.RequireKey, "true"));
        Assert.Contains(Chain(failure), e => e.Message.Contains(Axentra.BuildingBlocks.Dapr.DaprAppToken.RequireKey, StringComparison.Ordinal));
    }

    [Fact]
    public void A_malformed_signing_secret_refuses_to_start()
    {
        var failure = StartupFailure(b => b.UseSetting("Intake:Auth:SigningSecrets:0", "whsec_***"));
        Assert.Contains(Chain(failure), e => e is OptionsValidationException && e.Message.Contains("whsec_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_distributed_intake_with_a_setting_refused_exits_78_naming_it_without_echoing_the_secret()
    {
        // The process itself, as Kubernetes runs it: WebApplicationFactory above never gets to Main's end.
        const string Shared = "the-same-key-for-senders-and-operators-0123";
        var (exited, exitCode, output) = await BoundedProcess.RunServiceAsync(
            "Axentra.Intake", TimeSpan.FromSeconds(60), $"--Intake:Auth:ApiKeys:0={Shared}", $"--Ops:Auth:ApiKeys:0={Shared}");
        Assert.True(exited, output);
        Assert.Equal(ConfigurationRefusal.ExitCode, exitCode);
        Assert.Contains("Configuration refused: ", output, StringComparison.Ordinal);
        Assert.Contains("both for webhook senders", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal); // not an abort (134)
        Assert.DoesNotContain(Shared, output, StringComparison.Ordinal);
    }

    /// <summary>
    /// What starting the host configured by <paramref name="configure"/> threw. WebApplicationFactory runs the app's
    /// entry point on a thread of its own, and when the host throws while starting, the factory now and then reaches
    /// for the service provider the app has already disposed: it throws that ObjectDisposedException instead of the
    /// app's own failure (seen once in CI). That is the factory's race, not the app's answer, so such an attempt is
    /// repeated, a few times at most.
    /// </summary>
    private static Exception StartupFailure(Action<Microsoft.AspNetCore.Hosting.IWebHostBuilder> configure)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(configure);
            var failure = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
            if (attempt == 5 || !Chain(failure).All(e => e is ObjectDisposedException or AggregateException))
            {
                return failure;
            }
        }
    }

    /// <summary>
    /// Deletes a data directory a standalone host used, once the host has let go of it. WebApplicationFactory's Dispose
    /// may return before the app's services are disposed: the app's own <c>app.RunAsync()</c> (Program.Main, on the
    /// factory's entry-point thread) disposes the host too when it stops, and whichever of the two gets to the service
    /// provider first does the work while the other returns at once. Until that is done the embedded database may still
    /// touch its files (its WAL checkpointer's first checkpoint creates <c>axentra.db-wal</c> again), so a delete that
    /// finds the directory refilled is tried again, for a few seconds at most.
    /// </summary>
    private static void DeleteOnceReleased(string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            try
            {
                Directory.Delete(path, recursive: true);
                return;
            }
            catch (DirectoryNotFoundException)
            {
                return;
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
    }

    /// <summary>
    /// The exception and everything inside it: a host that fails to start may wrap the validation failure
    /// (and, tearing down, add others beside it).
    /// </summary>
    private static IEnumerable<Exception> Chain(Exception exception)
    {
        yield return exception;
        var inner = exception is AggregateException aggregate ? aggregate.InnerExceptions : (IEnumerable<Exception>)(exception.InnerException is null ? [] : [exception.InnerException]);
        foreach (var e in inner.SelectMany(Chain))
        {
            yield return e;
        }
    }

    [Fact]
    public void The_standalone_host_with_no_credential_generates_a_private_key_once()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("axentra-credentials-").FullName;
        try
        {
            string Start()
            {
                using var factory = new WebApplicationFactory<Standalone.Program>().WithWebHostBuilder(b => b.UseSetting("Standalone:DataDir", dataDirectory));
                using var client = factory.CreateClient();
                return File.ReadAllText(Path.Combine(dataDirectory, "credentials", "webhook-api-key"));
            }

            var first = Start();
            Assert.Equal(first, Start());
            Assert.StartsWith("axk_webhook_", first, StringComparison.Ordinal);
            if (!OperatingSystem.IsWindows())
            {
                var mode = File.GetUnixFileMode(Path.Combine(dataDirectory, "credentials", "webhook-api-key"));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
            }

            Assert.NotEqual(first, File.ReadAllText(Path.Combine(dataDirectory, "credentials", "ops-api-key")));
        }
        finally
        {
            DeleteOnceReleased(dataDirectory);
        }
    }

    [Fact]
    public void The_standalone_host_creates_its_data_directory_readable_by_its_owner_only()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var parent = Directory.CreateTempSubdirectory("axentra-data-mode-").FullName;
        var dataDirectory = Path.Combine(parent, "data"); // not there yet: the host creates it, as ./data on a first start
        try
        {
            using (var factory = new WebApplicationFactory<Standalone.Program>().WithWebHostBuilder(b => b.UseSetting("Standalone:DataDir", dataDirectory)))
            using (factory.CreateClient())
            {
            }

            // Every payload received is kept in there (the raw audit trail): no one else may list or read it.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dataDirectory));
        }
        finally
        {
            DeleteOnceReleased(parent);
        }
    }
}
