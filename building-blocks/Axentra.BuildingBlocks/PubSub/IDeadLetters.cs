namespace Axentra.BuildingBlocks.PubSub;

/// <summary>A message one subscriber gave up on, with why and after how many attempts.</summary>
/// <param name="Subscriber">The subscriber (app id) that gave up.</param>
/// <param name="MessageId">
/// The message's id within that subscriber's dead letters: the local queue's row id (as a string) in the standalone
/// host, the CloudEvent id in the distributed mode.
/// </param>
/// <param name="Topic">The topic the message was published on.</param>
/// <param name="EventId">The webhook event it carries, when the message is an envelope.</param>
/// <param name="EventType">The event's type, when the message is an envelope.</param>
/// <param name="StoreId">The event's store, when the message is an envelope.</param>
/// <param name="Attempts">Deliveries counted before it was given up (and failed redrives, distributed).</param>
/// <param name="Reason">The last error, or the subscriber's reason for dropping it.</param>
/// <param name="PublishedAt">When it was published (distributed: when intake received the event).</param>
/// <param name="DeadLetteredAt">When it became a dead letter, where the backend records it (distributed).</param>
public sealed record DeadLetter(
    string Subscriber,
    string MessageId,
    string Topic,
    string? EventId,
    string? EventType,
    string? StoreId,
    int Attempts,
    string? Reason,
    DateTimeOffset? PublishedAt,
    DateTimeOffset? DeadLetteredAt);

/// <summary>What a redrive did.</summary>
/// <param name="Redriven">Dead letters handed back to their subscriber.</param>
/// <param name="Resolved">
/// How many of those the subscriber then handled (their dead letter is gone), when the redrive waits for the answer
/// (distributed); null when delivery happens later (the standalone queue puts them back to pending).
/// </param>
public sealed record DeadLetterRedrive(int Redriven, int? Resolved);

/// <summary>
/// The dead letters of the subscribers of <c>webhook-events</c>: listed for operators and redriven (handed back to
/// their subscriber) once the cause is fixed. The standalone host keeps them in its local queue, the distributed
/// intake in the registry state store (fed by the subscribers' dead-letter topics).
/// </summary>
public interface IDeadLetters
{
    /// <summary>Oldest first, of one subscriber or of all, at most <paramref name="limit"/>.</summary>
    ValueTask<IReadOnlyList<DeadLetter>> ListAsync(string? subscriber, int limit, CancellationToken cancellationToken);

    /// <summary>Redrives one message (<paramref name="messageId"/>), all of a subscriber's, or all; none found is 0.</summary>
    ValueTask<DeadLetterRedrive> RedriveAsync(string? subscriber, string? messageId, CancellationToken cancellationToken);

    /// <summary>
    /// Closes one dead letter without handing it back: an operator decided it will never succeed (poison input, an
    /// event superseded since). It leaves the list, and its event records stage <c>resolved:{subscriber}</c> with
    /// <paramref name="reason"/>. False when there is no such dead letter.
    /// </summary>
    ValueTask<bool> ResolveAsync(string subscriber, string messageId, string reason, CancellationToken cancellationToken);
}
