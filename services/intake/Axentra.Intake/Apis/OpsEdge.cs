using System.Threading.RateLimiting;
using Axentra.BuildingBlocks.Dapr;
using Axentra.Contracts;
using Axentra.Intake.Auth;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace Axentra.Intake.Apis;

/// <summary>Rate limit of the ops routes (section <c>Ops:RateLimit</c>), separate from the webhook senders'.</summary>
public sealed class OpsRateLimitOptions
{
    public const string Section = "Ops:RateLimit";

    public int PermitsPerSecond { get; set; } = 50;

    public int Burst { get; set; } = 100;
}

/// <summary>
/// Intake is the only public service, so the ops API of all three services is reached through it and its
/// credential is checked here, once: <c>/events/**</c> (intake's own), <c>/audit/**</c>, <c>/catalog/**</c>
/// and <c>/admin/**</c>. An ops key never posts a webhook and a sender's key never opens these routes. Every
/// ops request is access-logged (which credential, which object, when, the answer), never with a body.
/// In the distributed mode <c>/audit/**</c> and <c>/catalog/**</c> are forwarded by YARP to the apps through Dapr
/// service invocation; in the standalone host the same URLs are served in-process.
/// </summary>
public sealed partial class OpsEdge : IMiddleware, IDisposable
{
    public static readonly string[] Prefixes = ["/events", "/audit", "/catalog", "/admin"];

    private readonly OpsAuthenticator _authenticator;
    private readonly ILogger _accessLog;
    private readonly PartitionedRateLimiter<string> _limiter;
    private readonly string _apiKeyHeader;

    public OpsEdge(OpsAuthenticator authenticator, IOptions<OpsRateLimitOptions> rateLimit, IOptions<WebhookAuthOptions> auth, ILoggerFactory loggers)
    {
        _authenticator = authenticator;
        _accessLog = loggers.CreateLogger("Axentra.OpsAccess");
        _apiKeyHeader = auth.Value.ApiKeyHeader;
        var o = rateLimit.Value;
        _limiter = PartitionedRateLimiter.Create<string, string>(credential => RateLimitPartition.GetTokenBucketLimiter(credential, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, o.Burst),
            TokensPerPeriod = Math.Max(1, o.PermitsPerSecond),
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
        }));
    }

    public static bool IsOpsPath(PathString path) => Prefixes.Any(prefix => path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase));

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!IsOpsPath(context.Request.Path))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var credential = _authenticator.Authenticate(context.Request.Headers);
        if (credential is null)
        {
            LogAccess("anonymous", context.Request.Method, context.Request.Path, StatusCodes.Status401Unauthorized);
            context.Response.Headers.WWWAuthenticate = _authenticator.Challenge;
            await WriteProblemAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized", "The ops routes need an ops API key.").ConfigureAwait(false);
            return;
        }

        using var lease = _limiter.AttemptAcquire(credential);
        if (!lease.IsAcquired)
        {
            context.Response.Headers.RetryAfter = "1";
            LogAccess(credential, context.Request.Method, context.Request.Path, StatusCodes.Status429TooManyRequests);
            await WriteProblemAsync(context, StatusCodes.Status429TooManyRequests, "Too many requests", "This ops credential is over its rate limit.").ConfigureAwait(false);
            return;
        }

        // The credential has done its job here; downstream services never see it.
        context.Request.Headers.Remove(_apiKeyHeader);

        // Logged once the response is complete, so the line carries the status the caller got, also when the route
        // threw and the exception handler (outside this middleware) answered 500/503.
        var method = context.Request.Method;
        var target = context.Request.Path + context.Request.QueryString;
        context.Response.OnCompleted(() =>
        {
            LogAccess(credential, method, target, context.Response.StatusCode);
            return Task.CompletedTask;
        });
        await next(context).ConfigureAwait(false);
    }

    private static Task WriteProblemAsync(HttpContext context, int status, string title, string detail) =>
        Results.Problem(detail, statusCode: status, title: title).ExecuteAsync(context);

    [LoggerMessage(Level = LogLevel.Information, Message = "ops access by {Credential}: {Method} {Target} -> {Status}")]
    private partial void LogAccess(string credential, string method, string target, int status);

    public void Dispose() => _limiter.Dispose();
}

/// <summary>The distributed edge: YARP routes to audit and catalog through the Dapr sidecar's service invocation.</summary>
public static class OpsEdgeProxy
{
    /// <summary>
    /// Forwards <c>/audit/**</c> and <c>/catalog/**</c> to the sidecar's HTTP port (<see cref="DaprDirectDelivery.SidecarHttpEndpoint"/>)
    /// with the <c>dapr-app-id</c> header, Dapr's HTTP service invocation: mTLS, retries and tracing come from Dapr.
    /// </summary>
    public static IServiceCollection AddOpsEdgeProxy(this IServiceCollection services, IConfiguration configuration)
    {
        var sidecar = DaprDirectDelivery.SidecarHttpEndpoint(configuration).AbsoluteUri;
        RouteConfig Route(string appId) => new()
        {
            RouteId = appId,
            ClusterId = appId,
            Match = new RouteMatch { Path = $"/{appId}/{{**rest}}" },
            Transforms =
            [
                new Dictionary<string, string> { ["RequestHeader"] = "dapr-app-id", ["Set"] = appId },
                // The sidecar's own credential to its app (DaprAppToken): never one a caller of the edge sent.
                new Dictionary<string, string> { ["RequestHeaderRemove"] = DaprAppToken.Header },
            ],
        };
        ClusterConfig Cluster(string appId) => new()
        {
            ClusterId = appId,
            Destinations = new Dictionary<string, DestinationConfig> { ["sidecar"] = new() { Address = sidecar } },
            HttpRequest = new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(30) },
        };

        services.AddReverseProxy().LoadFromMemory(
            [Route(PlatformNames.AppIds.Audit), Route(PlatformNames.AppIds.Catalog)],
            [Cluster(PlatformNames.AppIds.Audit), Cluster(PlatformNames.AppIds.Catalog)]);
        return services;
    }
}
