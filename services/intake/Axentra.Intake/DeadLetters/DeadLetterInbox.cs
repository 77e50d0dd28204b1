using Axentra.BuildingBlocks;
using Axentra.BuildingBlocks.PubSub;
using Axentra.Contracts;

namespace Axentra.Intake.DeadLetters;

/// <summary>
/// Intake's subscription to one subscriber's dead-letter topic (<c>webhook-events-{app}-deadletter</c>), where
/// that app's sidecar sends what it gave up on (retry budget spent, or DROP): each message is kept in the registry
/// (<see cref="RegistryDeadLetters"/>) for the ops API to list and redrive. Distributed mode only; the standalone
/// queue keeps its dead letters itself.
/// </summary>
public sealed class DeadLetterInbox(string deadLetteringSubscriber, RegistryDeadLetters deadLetters) : IMessageHandler
{
    public string Subscriber => PlatformNames.AppIds.Intake;

    public string Topic => PlatformNames.Topics.DeadLetterOf(deadLetteringSubscriber);

    public async ValueTask<DeliveryOutcome> HandleAsync(ReadOnlyMemory<byte> message, DeliveryContext context, CancellationToken cancellationToken)
    {
        try
        {
            return await deadLetters.KeepAsync(deadLetteringSubscriber, context.MessageId, message, cancellationToken).ConfigureAwait(false);
        }
        catch (BackendUnavailableException)
        {
            return DeliveryOutcome.Retry; // the registry is down: the sidecar redelivers, nothing is lost
        }
    }
}
