using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Axentra.BuildingBlocks.Dapr;

/// <summary>
/// Dapr's app API token (https://docs.dapr.io/operations/security/app-api-token/): with <c>APP_API_TOKEN</c> set, the
/// sidecar sends it in a <c>dapr-api-token</c> header on every call to its app, and the app refuses, 401, any request to
/// a route only the sidecar calls that does not carry it. Without it, anything that could reach the pod's port could
/// post to the subscription routes: plant dead letters that an operator's redrive would then deliver, or feed audit
/// and catalog envelopes of its own.
/// </summary>
/// <remarks>
/// The token comes from <c>Dapr:AppApiToken</c>, else the <c>APP_API_TOKEN</c> environment variable (the chart sets it
/// from the same Secret as the pod's <c>dapr.io/app-token-secret</c> annotation). Without one, the routes are open and
/// a warning says so at start (a local <c>dapr run</c>); with <c>Dapr:RequireAppApiToken=true</c> (the chart sets it),
/// the service refuses to start instead.
/// </remarks>
public static class DaprAppToken
{
    public const string Header = "dapr-api-token";
    public const string ConfigKey = "Dapr:AppApiToken";
    public const string EnvironmentVariable = "APP_API_TOKEN";
    public const string RequireKey = "Dapr:RequireAppApiToken";

    /// <summary>The configured token, or null.</summary>
    public static string? Of(IConfiguration configuration) =>
        new[] { configuration[ConfigKey], configuration[EnvironmentVariable] }.FirstOrDefault(t => !string.IsNullOrWhiteSpace(t));

    /// <summary>Requires the token on the requests <paramref name="sidecarOnly"/> picks. Call before the endpoints.</summary>
    public static IApplicationBuilder UseDaprAppToken(this IApplicationBuilder app, Func<PathString, bool> sidecarOnly)
    {
        var configuration = app.ApplicationServices.GetRequiredService<IConfiguration>();
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DaprAppToken).FullName!);
        if (Of(configuration) is not { } token)
        {
            if (configuration.GetValue(RequireKey, false))
            {
                throw new InvalidOperationException(
                    $"{RequireKey} is true but no Dapr app API token is configured ({EnvironmentVariable}, or {ConfigKey}): refusing to serve the sidecar's routes to any caller.");
            }

            logger.LogWarning(
                "No Dapr app API token ({EnvironmentVariable}): the routes the Dapr sidecar calls accept any caller that reaches this port. Set it for any deployment others can reach (docs/deploy.md).",
                EnvironmentVariable);
            return app;
        }

        var expected = new SecretSet([token]); // constant time: neither the token's length nor its bytes leak
        return app.Use(async (context, next) =>
        {
            if (sidecarOnly(context.Request.Path) && !expected.Contains(context.Request.Headers[Header].ToString()))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                await Results.Problem(
                    statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: "Only the Dapr sidecar calls this route.")
                    .ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            await next(context).ConfigureAwait(false);
        });
    }
}
