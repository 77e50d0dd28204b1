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
/// <c>GET /dapr/subscribe</c>) with a dead-letter topic per subscriber, and answers Dapr in its own terms:
/// 200 with <c>{"status":"SUCCESS"|"RETRY"|"DROP"}</c>. <c>UseCloudEvents()</c> must run first so the body is
/// the CloudEvent's <c>data</c>.
/// </summary>
/// <remarks>
/// The deployments subscribe declaratively (dapr.io/v2alpha1 Subscription objects in components/ and the chart),
/// because Dapr keeps only one of two identical subscriptions and does not document which. They set
/// <c>Dapr:ProgrammaticSubscriptions=false</c>: the routes stay, and <c>GET /dapr/subscribe</c> lists nothing.
/// </remarks>
public static class DaprSubscriberEndpoints
{
    public static string RouteOf(IMessageHandler handler) => $"/dapr/subscriptions/{handler.Topic}/{handler.Subscriber}";

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
                    DeadLetterTopic = Contracts.PlatformNames.Topics.DeadLetterOf(handler.Subscriber),
                });
            }
        }

        return endpoints;
    }

    private static async Task HandleAsync(IMessageHandler handler, HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        var messageId = context.Request.Headers["ce-id"].ToString() is { Length: > 0 } id ? id : context.TraceIdentifier;
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
