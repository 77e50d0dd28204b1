using System.Net.Http.Headers;
using System.Text;
using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.PubSub;
using Axentra.BuildingBlocks.State;
using Axentra.Intake.Auth;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Axentra.Intake.Tests;

/// <summary>
/// The real standalone host (intake on the embedded SQLite adapters) in-process, on a temporary data
/// directory, with one credential of every scheme configured. With <c>transactionalOutbox: false</c> intake
/// registers through the state store and the publisher step by step, as it does on Dapr.
/// </summary>
public sealed class StandaloneApp : WebApplicationFactory<Standalone.Program>
{
    public const string ApiKey = "test-webhook-key-1";
    public const string RotatedApiKey = "test-webhook-key-2";
    public const string OpsKey = "test-ops-key";
    public const string BearerToken = "supabase-bearer-token";
    public const string BasicUser = "eventbridge";
    public const string BasicPassword = "p@ss:word";
    public static readonly string SigningSecret = "whsec_" + Convert.ToBase64String(Encoding.ASCII.GetBytes("a-32-byte-signing-secret-for-tests"));
    public static readonly string RotatedSigningSecret = "whsec_" + Convert.ToBase64String(Encoding.ASCII.GetBytes("the-next-signing-secret-in-rotation"));

    private readonly Dictionary<string, string?> _settings;
    private readonly bool _transactionalOutbox;

    public StandaloneApp(Dictionary<string, string?>? settings = null, bool transactionalOutbox = true)
    {
        _transactionalOutbox = transactionalOutbox;
        // The data directory sits inside a directory of its own, so a test can check that nothing
        // was written beside it without seeing other processes' files in the shared temp folder.
        Root = Directory.CreateTempSubdirectory("axentra-intake-tests-").FullName;
        DataDirectory = Directory.CreateDirectory(Path.Combine(Root, "data")).FullName;
        _settings = new Dictionary<string, string?>
        {
            ["Standalone:DataDir"] = DataDirectory,
            ["Intake:Auth:ApiKeys:0"] = ApiKey,
            ["Intake:Auth:ApiKeys:1"] = RotatedApiKey,
            ["Intake:Auth:BearerTokens:0"] = BearerToken,
            ["Intake:Auth:Basic:Username"] = BasicUser,
            ["Intake:Auth:Basic:Password"] = BasicPassword,
            ["Intake:Auth:SigningSecrets:0"] = SigningSecret,
            ["Intake:Auth:SigningSecrets:1"] = RotatedSigningSecret,
            ["Ops:Auth:ApiKeys:0"] = OpsKey,
            ["Intake:RateLimit:PermitsPerSecond"] = "0",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? [])
        {
            _settings[key] = value;
        }
    }

    /// <summary>A fresh directory that holds <see cref="DataDirectory"/> and nothing else.</summary>
    public string Root { get; }

    public string DataDirectory { get; }

    /// <summary>Every publish goes through this decorator: count them, or make them fail.</summary>
    public FaultInjectingPublisher Publisher { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(services =>
        {
            services.Decorate<IMessagePublisher>((_, inner) => Publisher.Wrapping(inner));
            if (_transactionalOutbox)
            {
                services.Decorate<ITransactionalOutbox>((_, inner) => Publisher.Wrapping(inner));
            }
            else
            {
                services.RemoveAll<ITransactionalOutbox>();
            }
        });
    }

    public static HttpRequestMessage Webhook(string json, string? apiKey = ApiKey, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/supabase")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(json)),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (apiKey is not null)
        {
            request.Headers.Add("x-api-key", apiKey);
        }

        return request;
    }

    public static HttpRequestMessage SignedWebhook(string json, string secret, string webhookId, DateTimeOffset timestamp)
    {
        var request = Webhook(json, apiKey: null);
        var seconds = timestamp.ToUnixTimeSeconds();
        request.Headers.Add("webhook-id", webhookId);
        request.Headers.Add("webhook-timestamp", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", StandardWebhookSignature.Sign(secret, webhookId, seconds, Encoding.UTF8.GetBytes(json)));
        return request;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

/// <summary>
/// Decorators at the port boundary: count what intake published on <c>webhook-events</c>, and fail those
/// publishes on demand (through the publisher, or the outbox commit that holds them: the commit then never
/// happens). Other topics (catalog's KB refresh) pass through untouched.
/// </summary>
public sealed class FaultInjectingPublisher
{
    private IMessagePublisher? _inner;
    private ITransactionalOutbox? _innerOutbox;
    private int _failures;
    private int _published;

    public int Published => Volatile.Read(ref _published);

    public void FailNext(int count) => Interlocked.Exchange(ref _failures, count);

    public IMessagePublisher Wrapping(IMessagePublisher inner)
    {
        _inner = inner;
        return new Decorator(this);
    }

    public ITransactionalOutbox Wrapping(ITransactionalOutbox inner)
    {
        _innerOutbox = inner;
        return new OutboxDecorator(this);
    }

    private sealed class OutboxDecorator(FaultInjectingPublisher owner) : ITransactionalOutbox
    {
        public async ValueTask<SaveOutcome> TryCommitAsync(OutboxCommit commit, CancellationToken cancellationToken)
        {
            if (commit.Topic == Contracts.PlatformNames.Topics.WebhookEvents && Interlocked.Decrement(ref owner._failures) >= 0)
            {
                throw new BuildingBlocks.BackendUnavailableException("embedded database (injected)", "commit refused");
            }

            var outcome = await owner._innerOutbox!.TryCommitAsync(commit, cancellationToken);
            if (commit.Topic == Contracts.PlatformNames.Topics.WebhookEvents && outcome == SaveOutcome.Saved)
            {
                Interlocked.Increment(ref owner._published);
            }

            return outcome;
        }
    }

    private sealed class Decorator(FaultInjectingPublisher owner) : IMessagePublisher
    {
        public async ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> jsonMessage, CancellationToken cancellationToken)
        {
            if (topic != Contracts.PlatformNames.Topics.WebhookEvents)
            {
                await owner._inner!.PublishAsync(topic, jsonMessage, cancellationToken);
                return;
            }

            if (Interlocked.Decrement(ref owner._failures) >= 0)
            {
                throw new BuildingBlocks.BackendUnavailableException("pub/sub (injected)", "publish refused");
            }

            await owner._inner!.PublishAsync(topic, jsonMessage, cancellationToken);
            Interlocked.Increment(ref owner._published);
        }
    }
}
