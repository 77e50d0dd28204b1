using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.PubSub;
using Axentra.Classification;
using Axentra.Intake.Auth;
using Axentra.Intake.Registration;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;

namespace Axentra.Intake.Apis;

/// <summary><c>POST /webhooks/supabase</c>: the platform's public webhook endpoint (design.md §3).</summary>
public static partial class WebhookApi
{
    public const string Route = "/webhooks/supabase";

    /// <summary>Log category of the webhook endpoint.</summary>
    public const string LogCategory = "Axentra.Intake.Webhooks";

    public static IEndpointRouteBuilder MapWebhookApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(Route, ReceiveAsync)
            .WithName("ReceiveWebhook")
            .WithTags("Webhooks")
            .WithSummary("Receive a Supabase or EventBridge webhook")
            .WithDescription("Authenticates, bounds, dedupes, registers and publishes one webhook. 202 for a new event once it is durable; 200 with the original event for a redelivery inside the dedupe window.")
            // The body is described for OpenAPI only: .Accepts() would also make routing answer 415 on its own,
            // before authentication and without our ProblemDetails.
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = "The webhook payload as the sender sent it: a JSON object (at most Intake:MaxBodyBytes, nesting at most 64).",
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/json"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.Object } },
                    },
                };
                return Task.CompletedTask;
            })
            .Produces<WebhookReceipt>(StatusCodes.Status202Accepted)
            .Produces<WebhookReceipt>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return endpoints;
    }

    private static async Task<IResult> ReceiveAsync(
        HttpContext context,
        WebhookAuthenticator authenticator,
        WebhookRateLimiter rateLimiter,
        WebhookRegistrar registrar,
        IOptions<IntakeOptions> options,
        IntakeMetrics metrics,
        ILoggerFactory loggers)
    {
        var started = Stopwatch.GetTimestamp();
        metrics.Received();
        IResult result;
        try
        {
            result = await DecideAsync(context, authenticator, rateLimiter, registrar, options.Value, metrics, loggers).ConfigureAwait(false);
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
        {
            // Answered by the exception handlers (503 for a backend that is down, else 500): counted here, so every
            // request received is accepted, a duplicate or rejected, and the latency histogram sees every answer.
            var unavailable = ex is BackendUnavailableException;
            metrics.Rejected(unavailable ? "backend_unavailable" : "error");
            metrics.Answered(Stopwatch.GetElapsedTime(started).TotalMilliseconds, unavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError);
            throw;
        }

        metrics.Answered(Stopwatch.GetElapsedTime(started).TotalMilliseconds, (result as IStatusCodeHttpResult)?.StatusCode ?? 0);
        return result;
    }

    private static async Task<IResult> DecideAsync(
        HttpContext context, WebhookAuthenticator authenticator, WebhookRateLimiter rateLimiter, WebhookRegistrar registrar, IntakeOptions options, IntakeMetrics metrics,
        ILoggerFactory loggers)
    {
        var request = context.Request;
        var auth = authenticator.Authenticate(request.Headers);
        if (auth.Decision == AuthDecision.Refused)
        {
            Challenge(context, authenticator);
            return Refuse(metrics, "unauthenticated", StatusCodes.Status401Unauthorized, "Unauthorized",
                "No valid credential: send an API key, Basic or Bearer credential, or a Standard Webhooks signature.");
        }

        // A signature is checked before its sender's tokens are spent (below): every signed sender shares one
        // credential, which a request with a forged signature must not drain.
        if (auth.Decision != AuthDecision.NeedsSignature && RateLimited(context, rateLimiter, auth.Credential, metrics) is { } limited)
        {
            return limited;
        }

        if (!IsJson(request.ContentType))
        {
            return Refuse(metrics, "unsupported_media_type", StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                "The body must be sent as application/json (UTF-8).");
        }

        byte[]? body;
        try
        {
            body = await ReadBodyAsync(context, options.MaxBodyBytes).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex)
        {
            // The sender's fault, not ours: fewer bytes than its Content-Length, sent too slowly (Kestrel's minimum data
            // rate, 408), or a malformed chunk. Nothing was read, so nothing was recorded.
            return Refuse(metrics, "body_not_received", ex.StatusCode, "Body not received", $"The request body could not be read: {ex.Message}", "body_not_received");
        }

        if (body is null)
        {
            return Refuse(metrics, "too_large", StatusCodes.Status413PayloadTooLarge, "Payload too large",
                $"The body is larger than {options.MaxBodyBytes} bytes.");
        }

        if (auth.Decision == AuthDecision.NeedsSignature)
        {
            if (authenticator.VerifySignature(request.Headers, body) is { } signatureError)
            {
                Challenge(context, authenticator);
                return Refuse(metrics, "bad_signature", StatusCodes.Status401Unauthorized, "Unauthorized", $"Invalid Standard Webhooks signature: {signatureError}.");
            }

            if (RateLimited(context, rateLimiter, auth.Credential, metrics) is { } signedLimited)
            {
                return signedLimited;
            }
        }

        var webhookId = request.Headers.TryGetValue(StandardWebhookSignature.IdHeader, out var id) ? id.ToString() : null;
        var (webhook, rejection) = WebhookClassifier.Classify(body, webhookId);
        if (rejection is not null)
        {
            return Refuse(metrics, rejection.Code, StatusCodes.Status400BadRequest, "Invalid webhook", rejection.Detail, rejection.Code);
        }

        // Every line logged for this event from here on carries its ids (the registrar adds event_id once the
        // identity is fixed). Ids only: never the body.
        var logger = loggers.CreateLogger(LogCategory);
        var ids = new EventLogScope(null, webhook!.StoreId, webhook.EventType);
        using var classifiedScope = logger.BeginScope(ids);
        Activity.Current?.SetTag("axentra.store_id", webhook.StoreId);
        Activity.Current?.SetTag("axentra.event_type", webhook.EventType);

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        budget.CancelAfter(options.RequestBudget);
        RegistrationResult outcome;
        try
        {
            outcome = await registrar.RegisterAsync(webhook!, body, budget.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            context.Response.Headers.RetryAfter = "5";
            return Refuse(metrics, "timeout", StatusCodes.Status503ServiceUnavailable, "Backends too slow",
                "The event was not made durable within the time budget, so it is not acknowledged. Retry later: if it did become durable meanwhile, the retry is answered 200 with its event.");
        }
        catch (BackendUnavailableException)
        {
            // Kept with the request for the exception handler, which logs the 503 after this scope has ended; only
            // here, so a webhook that succeeds pays nothing for it.
            EventLogScope.Attach(context, ids);
            throw;
        }

        var identity = outcome switch
        {
            RegistrationResult.Accepted a => a.Event,
            RegistrationResult.Duplicate d => d.Event,
            _ => null,
        };
        Activity.Current?.SetTag("axentra.event_id", identity?.EventId);
        switch (outcome)
        {
            case RegistrationResult.Accepted accepted:
                metrics.Accepted(accepted.Event.EventType);
                return TypedResults.Json(WebhookReceipt.Of(accepted.Event, duplicate: false), IntakeJsonContext.Readable.WebhookReceipt, statusCode: StatusCodes.Status202Accepted);
            case RegistrationResult.Duplicate duplicate:
                metrics.Duplicate();
                if (duplicate.Event.PayloadHash != webhook.PayloadHash)
                {
                    // Only a webhook-id can match a different payload: the sender reused an id, or two senders share an id
                    // space. Standard Webhooks resends a message unchanged, so this payload is answered as the duplicate it
                    // claims to be and never registered: say so where an operator looks.
                    metrics.WebhookIdReused();
                    using (logger.BeginScope(new EventLogScope(duplicate.Event.EventId, null, null)))
                    {
                        LogWebhookIdReused(logger, webhook.DedupeKey, duplicate.Event.EventId, webhook.PayloadHash);
                    }
                }

                return TypedResults.Json(WebhookReceipt.Of(duplicate.Event, duplicate: true), IntakeJsonContext.Readable.WebhookReceipt, statusCode: StatusCodes.Status200OK);
            case RegistrationResult.InFlight inFlight:
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(inFlight.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return Refuse(metrics, "in_flight", StatusCodes.Status503ServiceUnavailable, "Event in flight",
                    "Another delivery of this event is still being registered; retry after the Retry-After delay.");
            default:
                throw new UnreachableException();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{DedupeKey} was already used by event {OriginalEventId} for a different payload (this one's payload_hash {PayloadHash}): answered as its duplicate, not registered")]
    private static partial void LogWebhookIdReused(ILogger logger, string dedupeKey, string originalEventId, string payloadHash);

    /// <summary>A 429 with <c>Retry-After</c> when <paramref name="credential"/> is over its rate limit, else null (a token spent).</summary>
    private static ProblemHttpResult? RateLimited(HttpContext context, WebhookRateLimiter rateLimiter, string credential, IntakeMetrics metrics)
    {
        if (rateLimiter.TryAcquire(credential) is not { } wait)
        {
            return null;
        }

        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return Refuse(metrics, "rate_limited", StatusCodes.Status429TooManyRequests, "Too many requests",
            "This credential is over its rate limit; retry after the Retry-After delay.");
    }

    /// <summary>A 401's <c>WWW-Authenticate</c> (RFC 9110 §11.6.1): the configured schemes, when any has one.</summary>
    private static void Challenge(HttpContext context, WebhookAuthenticator authenticator)
    {
        if (authenticator.Challenge.Length > 0)
        {
            context.Response.Headers.WWWAuthenticate = authenticator.Challenge;
        }
    }

    private static ProblemHttpResult Refuse(IntakeMetrics metrics, string reason, int status, string title, string detail, string? code = null)
    {
        metrics.Rejected(reason);
        return TypedResults.Problem(detail, statusCode: status, title: title,
            extensions: code is null ? null : new Dictionary<string, object?> { ["code"] = code });
    }

    /// <summary>application/json, with or without parameters such as <c>charset=utf-8</c> (EventBridge sends one).</summary>
    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media)
        && media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        && (!media.Charset.HasValue || HeaderUtilities.RemoveQuotes(media.Charset).Equals("utf-8", StringComparison.OrdinalIgnoreCase)); // charset="utf-8" too (RFC 9110 §8.3.1)

    /// <summary>The body's bytes, or null when it exceeds <paramref name="limit"/> (read no further than that).</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpContext context, int limit)
    {
        if (context.Request.ContentLength > limit)
        {
            return null;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } max)
        {
            max.MaxRequestBodySize = null; // the limit below is ours, with our own 413
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(limit + 1, (int)(context.Request.ContentLength ?? 16 * 1024) + 1));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        return null;
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await context.Request.Body.ReadAsync(buffer.AsMemory(length), context.RequestAborted).ConfigureAwait(false);
                if (read == 0)
                {
                    return length > limit ? null : buffer.AsSpan(0, length).ToArray();
                }

                length += read;
                if (length > limit)
                {
                    return null;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
