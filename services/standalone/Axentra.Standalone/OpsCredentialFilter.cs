using Axentra.Intake.Auth;

namespace Axentra.Standalone;

/// <summary>
/// The ops credential in front of the in-process ops routes (<c>/catalog/**</c>): an ops key from
/// <c>Ops:Auth:ApiKeys</c> in the API key header, never a webhook sender's key. A stop-gap until the ops edge
/// (one check for every ops route) replaces it.
/// </summary>
internal static class OpsCredentialFilter
{
    public static async ValueTask<object?> CheckAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var authenticator = context.HttpContext.RequestServices.GetRequiredService<OpsAuthenticator>();
        if (authenticator.Authenticate(context.HttpContext.Request.Headers) is null)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: "Ops routes need an ops API key (Ops:Auth:ApiKeys).");
        }

        return await next(context).ConfigureAwait(false);
    }
}
