using Microsoft.AspNetCore.Http.Features;

namespace Axentra.Intake.Apis;

/// <summary>
/// Refuses, 400, a request target with a dot segment (<c>.</c>, <c>..</c>, percent-encoded or not) or an encoded slash or
/// backslash: no route of the public edge has one (its ids are safe key segments), and each is a way around a path
/// rule. Kestrel resolves <c>/webhooks/%2e%2e/metrics</c> to <c>/metrics</c>, so a load balancer that forwards only
/// <c>/webhooks/*</c> would not keep such a request from the routes behind it; and <c>%2F</c>, which Kestrel leaves
/// encoded, reaches the ops edge's forwarding to audit and catalog, where their sidecars decode it.
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
            detail: "The path has a dot segment or an encoded slash, which no route of this service has.")
            .ExecuteAsync(context);
    }

    /// <summary>True for a dot segment (literal or encoded) or an encoded <c>/</c> or <c>\</c> in the path (the query is not looked at).</summary>
    public static bool IsSuspicious(string target)
    {
        var query = target.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? target : target[..query];
        if (path.Contains("%2f", StringComparison.OrdinalIgnoreCase) || path.Contains("%5c", StringComparison.OrdinalIgnoreCase) || path.Contains('\\', StringComparison.Ordinal))
        {
            return true;
        }

        foreach (var segment in path.Replace("%2e", ".", StringComparison.OrdinalIgnoreCase).Split('/'))
        {
            if (segment is "." or "..")
            {
                return true;
            }
        }

        return false;
    }
}
