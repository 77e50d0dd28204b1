using Microsoft.AspNetCore.Http.Features;

namespace Axentra.Intake.Apis;

/// <summary>
/// Refuses, 400, a request target whose path has a dot segment (<c>.</c>, <c>..</c>), a backslash or any percent-encoding:
/// no route of the public edge has one (its ids are safe key segments: letters, digits, <c>-</c>, <c>_</c>, <c>.</c>),
/// and each is a way around a path rule. Kestrel resolves <c>/webhooks/%2e%2e/metrics</c> to <c>/metrics</c>, so a load
/// balancer that forwards only <c>/webhooks/*</c> would not keep such a request from the routes behind it; <c>%2F</c>,
/// which Kestrel leaves encoded, reaches the ops edge's forwarding to audit and catalog, where their sidecars decode it;
/// and a double-encoded dot segment (<c>%252e%252e</c>) is decoded once by Kestrel, re-encoded by the forwarding, decoded
/// once more by daprd and resolved by the app, so <c>/audit/%252e%252e/dapr/…</c> reached audit's subscription route.
/// Refusing every <c>%</c> closes each of those at once.
/// </summary>
public sealed class RequestTargetGuard(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? string.Empty;
        if (!IsSuspicious(target))
        {
            return next(context);
        }

        return Results.Problem(
            statusCode: StatusCodes.Status400BadRequest, title: "Invalid request target",
            detail: "The path has a dot segment, a backslash or a percent-encoded character, which no route of this service has.")
            .ExecuteAsync(context);
    }

    /// <summary>True for a dot segment, a <c>\</c> or any <c>%</c> in the path (the query is not looked at).</summary>
    public static bool IsSuspicious(string target)
    {
        var query = target.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? target : target[..query];
        if (path.Contains('%', StringComparison.Ordinal) || path.Contains('\\', StringComparison.Ordinal))
        {
            return true;
        }

        foreach (var segment in path.Split('/'))
        {
            if (segment is "." or "..")
            {
                return true;
            }
        }

        return false;
    }
}
