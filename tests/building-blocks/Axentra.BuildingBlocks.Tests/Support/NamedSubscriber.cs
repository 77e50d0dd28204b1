using Axentra.BuildingBlocks.PubSub;

namespace Axentra.BuildingBlocks.Tests.Support;

/// <summary>A subscriber of <c>webhook-events</c> that only has a name: for tests of what the queue stores, not of delivery.</summary>
internal sealed class NamedSubscriber(string name) : IMessageHandler
{
    public string Subscriber => name;

    public string Topic => "webhook-events";

    public ValueTask<DeliveryOutcome> HandleAsync(ReadOnlyMemory<byte> message, DeliveryContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(DeliveryOutcome.Success);
}
