using Pipeline.Core.Orchestration;

namespace Pipeline.Host.AzureFunctions;

/// <summary>
/// The arguments of Durable's <c>new RetryPolicy(maxNumberOfAttempts, firstRetryInterval, backoffCoefficient,
/// maxRetryInterval)</c>, made from the port's <see cref="RetryPolicy"/> so that both give the same delays.
/// Durable rejects what the port allows: a first interval of zero, and a cap below the first interval
/// (ArgumentOutOfRangeException, Microsoft.DurableTask RetryPolicy); and it caps at one hour when no cap is given,
/// where the port caps at one day (<see cref="RetryPolicy.DelayBeforeAttempt"/>).
/// </summary>
public sealed record DurableRetry(int MaxNumberOfAttempts, TimeSpan FirstRetryInterval, double BackoffCoefficient, TimeSpan MaxRetryInterval)
{
    /// <summary>Durable's smallest allowed interval (it must be &gt; 0); stands for the port's "retry at once".</summary>
    public static readonly TimeSpan MinimumInterval = TimeSpan.FromMilliseconds(1);

    /// <summary>The port's overall cap of one retry delay.</summary>
    public static readonly TimeSpan MaximumInterval = TimeSpan.FromDays(1);

    /// <summary>Durable's retry for a port policy; null when the policy makes a single attempt (no TaskOptions).</summary>
    public static DurableRetry? From(RetryPolicy? policy)
    {
        if (policy is null)
            return null;
        policy.Validate();
        if (policy.MaxAttempts <= 1)
            return null;
        TimeSpan cap = policy.MaxRetryInterval is { } c && c < MaximumInterval ? c : MaximumInterval;
        TimeSpan first = policy.FirstRetryInterval;
        double backoff = policy.BackoffCoefficient;
        if (first > cap)
        {
            // every delay is the cap: min(first * b^k, cap) = cap
            first = cap;
            backoff = 1.0;
        }
        if (first == TimeSpan.Zero)
            backoff = 1.0; // the port waits zero before every retry: Durable waits its minimum each time
        if (first < MinimumInterval)
            first = MinimumInterval;
        if (cap < first)
            cap = first;
        return new DurableRetry(policy.MaxAttempts, first, backoff, cap);
    }

    /// <summary>Durable's wait before attempt <paramref name="attempt"/> (2 = the first retry): min(first * b^(n-2), max).</summary>
    public TimeSpan DelayBeforeAttempt(int attempt)
    {
        if (attempt < 2)
            return TimeSpan.Zero;
        double ms = FirstRetryInterval.TotalMilliseconds * Math.Pow(BackoffCoefficient, attempt - 2);
        return TimeSpan.FromMilliseconds(Math.Min(ms, MaxRetryInterval.TotalMilliseconds));
    }
}
