using Axentra.BuildingBlocks.PubSub;

namespace Axentra.Catalog.Projection;

/// <summary>
/// The host's <see cref="IMessagePublisher"/>, resolved at the first publish instead of at construction. The
/// catalog is a subscriber that also publishes (KB refresh, routing); in the standalone host the publisher is the
/// local queue, which needs every subscriber to be built first, so resolving it eagerly would be a dependency cycle
/// (hidden behind factory registrations, it hangs the host at start-up instead of failing).
/// </summary>
internal sealed class DeferredMessagePublisher(IServiceProvider services) : IMessagePublisher
{
    private IMessagePublisher? _publisher;

    public ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> jsonMessage, CancellationToken cancellationToken) =>
        (_publisher ??= services.GetRequiredService<IMessagePublisher>()).PublishAsync(topic, jsonMessage, cancellationToken);
}
