using Axentra.BuildingBlocks.PubSub;
using Dapr;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Axentra.BuildingBlocks.Dapr;

/// <summary>
/// Exposes each <see cref="IMessageHandler"/> as a Dapr programmatic subscription (listed on
/// <c>GET /dapr/subscribe</c>) with a dead-letter topic per subscriber of <c>webhook-events</c>, and answers Dapr in
/// its own terms: 200 with <c>{"status":"SUCCESS"|"RETRY"|"DROP"}</c>. <c>UseCloudEvents()</c> (or
/// <see cref="UseDaprSubscriptionCloudEvents"/>) must run first so the body is the CloudEvent's <c>data</c>.
/// The same route and answer serve a redrive (<see cref="DaprDirectDelivery"/>): the envelope as
/// <c>application/json</c> with the message id in a <c>ce-id</c> header.
/// </summary>
/// <remarks>
/// The deployments subscribe declaratively (dapr.io/v2alpha1 Subscription objects in components/ and the chart),
/// because Dapr keeps only one of two identical subscriptions and does not document which. They set
/// <c>Dapr:ProgrammaticSubscriptions=false</c>: the routes stay, and <c>GET /dapr/subscribe</c> lists nothing.
/// </remarks>
public static class DaprSubscriberEndpoints
{
    public static string RouteOf(IMessageHandler handler) => RouteOf(handler.Topic, handler.Subscriber);

    /// <summary><c>/dapr/subscriptions/{topic}/{subscriber}</c>: where the subscriber's sidecar delivers the topic.</summary>
    public static string RouteOf(string topic, string subscriber) => $"/dapr/subscriptions/{topic}/{subscriber}";

    /// <summary>The header a delivery's message id is read from: binary-mode CloudEvents' <c>ce-id</c> (a redrive sends it).</summary>
    public const string MessageIdHeader = "ce-id";

    /// <summary>Where Dapr.AspNetCore's CloudEvents middleware forwards the CloudEvent's <c>id</c> when asked to.</summary>
    private const string ForwardedCloudEventIdHeader = "Cloudevent.id";

    /// <summary>
    /// Unwraps CloudEvents on the subscription routes only, forwarding the CloudEvent id as a header so handlers get
    /// a message id that is the same on every redelivery. For an app whose other routes must never be unwrapped
    /// (intake: a webhook posted as <c>application/cloudevents+json</c> is a 415, not its <c>data</c>).
    /// </summary>
    public static IApplicationBuilder UseDaprSubscriptionCloudEvents(this IApplicationBuilder app) =>
        app.UseWhen(
            context => context.Request.Path.StartsWithSegments("/dapr/subscriptions", StringComparison.Ordinal),
            branch => branch.UseCloudEvents(new CloudEventsMiddlewareOptions
            {
                ForwardCloudEventPropertiesAsHeaders = true,
                IncludedCloudEventPropertiesAsHeaders = ["id"],
            }));

    public const string ProgrammaticSubscriptionsKey = "Dapr:ProgrammaticSubscriptions";

    public static IEndpointRouteBuilder MapDaprSubscribers(this IEndpointRouteBuilder endpoints, string pubSubName)
    {
        var programmatic = endpoints.ServiceProvider.GetRequiredService<IConfiguration>().GetValue(ProgrammaticSubscriptionsKey, true);
        if (programmatic)
        {
            endpoints.MapSubscribeHandler();
        }
        else
        {
            endpoints.MapGet("/dapr/subscribe", () => Results.Json(Array.Empty<object>())).ExcludeFromDescription();
        }

        foreach (var handler in endpoints.ServiceProvider.GetServices<IMessageHandler>())
        {
            var route = endpoints.MapPost(RouteOf(handler), context => HandleAsync(handler, context)).ExcludeFromDescription();
            if (programmatic)
            {
                route.WithTopic(new TopicOptions
                {
                    PubsubName = pubSubName,
                    Name = handler.Topic,
                    DeadLetterTopic = DeadLetterTopicOf(handler),
                });
            }
        }

        return endpoints;
    }

    /// <summary>
    /// A subscriber of <c>webhook-events</c> dead-letters to its own topic, which intake subscribes to. A dead-letter
    /// topic's subscriber has none: what it cannot take stays in its queue and ends in the queue's own DLQ.
    /// </summary>
    public static string? DeadLetterTopicOf(IMessageHandler handler) =>
        handler.Topic == Contracts.PlatformNames.Topics.WebhookEvents ? Contracts.PlatformNames.Topics.DeadLetterOf(handler.Subscriber) : null;

    private static async Task HandleAsync(IMessageHandler handler, HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        var headers = context.Request.Headers;
        var messageId = headers[MessageIdHeader].ToString() is { Length: > 0 } id ? id
            : headers[ForwardedCloudEventIdHeader].ToString() is { Length: > 0 } forwarded ? forwarded
            : context.TraceIdentifier;
        var delivery = new DeliveryContext(messageId, Attempt: 1);

        // The server span of this request already continues the publisher's trace (Dapr sends the CloudEvent's
        // traceparent as a header), so the delivery span takes it as parent, not the envelope's.
        var telemetry = context.RequestServices.GetService<DeliveryTelemetry>();
        var outcome = telemetry is null
            ? await handler.HandleAsync(buffer.ToArray(), delivery, context.RequestAborted).ConfigureAwait(false)
            : await telemetry.DeliverAsync(handler, buffer.ToArray(), delivery, parentFromMessage: false, context.RequestAborted).ConfigureAwait(false);
        var status = outcome switch
        {
            DeliveryOutcome.Success => "SUCCESS",
            DeliveryOutcome.Drop => "DROP",
            _ => "RETRY",
        };
        await context.Response.WriteAsJsonAsync(new DaprSubscriptionResponse(status), context.RequestAborted).ConfigureAwait(false);
    }

    internal sealed record DaprSubscriptionResponse(string Status);
}
