using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Axentra.Intake.Apis;

/// <summary>A token bucket per credential: one noisy sender cannot starve the others.</summary>
public sealed class WebhookRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _limiter;

    public WebhookRateLimiter(IOptions<RateLimitOptions> options)
    {
        var o = options.Value;
        if (o.PermitsPerSecond <= 0)
        {
            return;
        }

        // Refill in small steps (about 100 a second) so the limit is smooth rather than a burst at each second
        // boundary, with the period derived from the step so the rate is exact for any value (a fixed 100 ms
        // period with at least one token per step would let 1/s through at 10/s).
        var perTick = Math.Max(1, o.PermitsPerSecond / 100);
        _limiter = PartitionedRateLimiter.Create<string, string>(credential => RateLimitPartition.GetTokenBucketLimiter(credential, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(o.Burst, perTick),
            TokensPerPeriod = perTick,
            ReplenishmentPeriod = TimeSpan.FromSeconds((double)perTick / o.PermitsPerSecond),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>Null when admitted, else how long the sender should wait.</summary>
    public TimeSpan? TryAcquire(string credential)
    {
        if (_limiter is null)
        {
            return null;
        }

        using var lease = _limiter.AttemptAcquire(credential);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
    }

    public void Dispose() => _limiter?.Dispose();
}
