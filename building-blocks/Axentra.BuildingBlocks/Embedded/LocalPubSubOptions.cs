using System.ComponentModel.DataAnnotations;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// Retry and concurrency settings of the standalone host's durable queue (<c>Standalone:Queue</c>). Checked at start: a
/// value out of range stops the host with the setting named (exit 78), instead of a host that is ready and never delivers.
/// </summary>
public sealed class LocalPubSubOptions : IValidatableObject
{
    /// <summary>Deliveries of one message to one subscriber before it is dead-lettered.</summary>
    [Range(1, 1000)]
    public int MaxAttempts { get; set; } = 20;

    /// <summary>First retry delay; doubles per attempt, with full jitter, up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Messages one subscriber handles at once. Handlers spend most of a delivery waiting for the group commit, not
    /// on the CPU, so this is what bounds the drain rate: 16 drained about 550 events/s on 2 cores, 128 about
    /// 1,000 (docs/performance.md).
    /// </summary>
    [Range(1, 4096)]
    public int Concurrency { get; set; } = 128;

    /// <summary>
    /// False holds every delivery: webhooks are still accepted and queued durably, and nothing is handed to audit
    /// or catalog until the host starts again with deliveries on. For maintenance on what the subscribers write to,
    /// and for measuring intake and the drain of a backlog apart (bench/run.sh).
    /// </summary>
    public bool Deliver { get; set; } = true;

    /// <summary>Messages fetched per dispatch round.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 256;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (InitialBackoff <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Standalone:Queue:InitialBackoff must be more than zero.", [nameof(InitialBackoff)]);
        }

        if (MaxBackoff < InitialBackoff)
        {
            yield return new ValidationResult("Standalone:Queue:MaxBackoff must not be less than InitialBackoff.", [nameof(MaxBackoff)]);
        }
    }

    internal TimeSpan BackoffFor(int attempt, double jitter)
    {
        var exponential = InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        var capped = Math.Min(exponential, MaxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + (jitter / 2)));
    }
}
