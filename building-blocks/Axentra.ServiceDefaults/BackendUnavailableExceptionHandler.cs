using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.PubSub;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace Axentra.ServiceDefaults;

/// <summary>
/// A backend that is down is the only reason a request may end in 5xx: 503 with <c>Retry-After</c>, so
/// EventBridge and Supabase retry later, and never a 2xx for work that is not durable.
/// </summary>
internal sealed partial class BackendUnavailableExceptionHandler(IProblemDetailsService problemDetails, ILogger<BackendUnavailableExceptionHandler> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BackendUnavailableException unavailable)
        {
            return false;
        }

        using (EventLogScope.Of(httpContext) is { } ids ? logger.BeginScope(ids) : null)
        {
            LogUnavailable(unavailable.Backend, exception);
        }

        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "A backend is unavailable",
                Detail = $"{unavailable.Backend} did not answer, so nothing is acknowledged. Retry later: a webhook that was recorded after all is answered 200 with its event.",
            },
        }).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Backend {Backend} unavailable")]
    private partial void LogUnavailable(string backend, Exception exception);
}
