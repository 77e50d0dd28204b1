using Axentra.BuildingBlocks.PubSub;
using Dapr.Client;

namespace Axentra.BuildingBlocks.Dapr;

/// <summary>
/// <see cref="IMessagePublisher"/> over a Dapr pub/sub component (pubsub.aws.snssqs in AWS). The bytes go out as
/// the CloudEvent's <c>data</c> with content type <c>application/json</c>, unchanged (PublishByteEventAsync; the
/// typed overload would re-serialise them camelCase). A sidecar timeout is an outage like any other failure.
/// </summary>
public sealed class DaprMessagePublisher(DaprClient dapr, string pubSubName) : IMessagePublisher
{
    public async ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> jsonMessage, CancellationToken cancellationToken)
    {
        try
        {
            await dapr.PublishByteEventAsync(pubSubName, topic, jsonMessage, "application/json", cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (SidecarFailure.Is(ex, cancellationToken))
        {
            throw new BackendUnavailableException($"pub/sub {pubSubName}", $"publish to '{topic}' failed", ex);
        }
    }
}
