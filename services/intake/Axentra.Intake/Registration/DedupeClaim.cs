using System.Security.Cryptography;
using System.Text;
using Axentra.Intake.Domain;

namespace Axentra.Intake.Registration;

/// <summary>
/// The dedupe entry of one event, keyed by its dedupe key and kept for the dedupe window, or for the registry's
/// retention when that key is the payload hash: such a claim is also the hash's index entry (<see cref="PayloadHashLookup"/>).
/// <c>pending</c> while the delivery that claimed it registers and publishes, under a lease; <c>accepted</c>
/// once the event is durable. A pending claim whose lease ran out (its delivery failed or its process died) is
/// taken over by the next delivery, which reuses the recorded identity, so a republish carries the same
/// event_id and audit key and stays idempotent downstream.
/// </summary>
public sealed record DedupeClaim
{
    public const string Pending = "pending";
    public const string Accepted = "accepted";

    /// <summary>Unique per claiming delivery: lets the Dapr adapter recognise its own write on re-read.</summary>
    public required string Token { get; init; }
    public required string State { get; init; }
    public required DateTimeOffset LeaseUntil { get; init; }

    /// <summary>
    /// End of the dedupe window. Kept in the value, not only as the store's TTL: DynamoDB deletes expired items
    /// lazily (up to days later) and a first-write on such a key still fails, so the window is judged here and an
    /// expired claim is replaced with its ETag, race-free.
    /// </summary>
    public required DateTimeOffset WindowEndsAt { get; init; }
    public required EventIdentity Event { get; init; }

    /// <summary>
    /// The claim's state key. A webhook-id may hold any printable ASCII, but Dapr refuses every state key containing
    /// <c>||</c> (its key-prefix separator; dapr/dapr pkg/components/state <c>checkKeyIllegal</c>), so such a key is
    /// named by its SHA-256 instead, in both modes. Every other key stays as it was.
    /// </summary>
    public static string KeyOf(string dedupeKey) =>
        dedupeKey.Contains("||", StringComparison.Ordinal)
            ? $"dedupe:sha256:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dedupeKey)))}"
            : $"dedupe:{dedupeKey}";
}
