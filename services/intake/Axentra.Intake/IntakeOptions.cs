using System.ComponentModel.DataAnnotations;

namespace Axentra.Intake;

/// <summary>Bounds and timings of the webhook endpoint (section <c>Intake</c>); each timing must be more than zero.</summary>
public sealed class IntakeOptions : IValidatableObject
{
    public const string Section = "Intake";

    /// <summary>Largest accepted body; EventBridge's own event limit is 256 KiB.</summary>
    [Range(1, 64 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 256 * 1024;

    /// <summary>How long an identical delivery is answered as a duplicate (EventBridge retries for up to 24 h).</summary>
    public TimeSpan DedupeWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a delivery holds its claim while it registers and publishes.</summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Budget for answering one webhook, inside EventBridge's 5-second timeout: past it the answer is 503 and
    /// the sender retries.
    /// </summary>
    public TimeSpan RequestBudget { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>How long a redelivery waits for a concurrent delivery of the same event to finish.</summary>
    public TimeSpan InFlightWait { get; set; } = TimeSpan.FromSeconds(2);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, value) in new[] { (nameof(DedupeWindow), DedupeWindow), (nameof(ClaimLease), ClaimLease), (nameof(RequestBudget), RequestBudget), (nameof(InFlightWait), InFlightWait) })
        {
            if (value <= TimeSpan.Zero)
            {
                yield return new ValidationResult($"{Section}:{name} must be more than zero.", [name]);
            }
        }
    }
}

/// <summary>The topic each event type is routed to downstream (section <c>Routing</c>); none by default.</summary>
public sealed class RoutingOptions
{
    public const string Section = "Routing";

    public Dictionary<string, string> Targets { get; } = new(StringComparer.Ordinal);
}

/// <summary>The webhook rate limit (section <c>Intake:RateLimit</c>): a token bucket per credential.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "Intake:RateLimit";

    /// <summary>Sustained requests per second per credential; 0 turns the limit off.</summary>
    [Range(0, 1_000_000)]
    public int PermitsPerSecond { get; set; } = 2000;

    /// <summary>Requests a credential may send at once after being idle.</summary>
    [Range(1, 10_000_000)]
    public int Burst { get; set; } = 4000;
}
