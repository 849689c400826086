using Microsoft.Extensions.Logging;

namespace Pipeline.Host.Triggers;

/// <summary>
/// Waits between attempts to reach storage while it is down (e.g. Azurite restarting): exponential from 250 ms to a cap,
/// with jitter so that several listeners do not retry in lockstep. Logs the start of an outage as a warning, further
/// failures at debug level, and the recovery, so a long outage does not flood the log and never ends the process.
/// </summary>
public sealed class ReconnectBackoff(TimeSpan max, ILogger logger, string what)
{
    private static readonly TimeSpan First = TimeSpan.FromMilliseconds(250);
    private int _failures;

    public bool InOutage => _failures > 0;

    /// <summary>Records a failure and returns how long to wait before the next attempt.</summary>
    public TimeSpan Failed(Exception error)
    {
        if (_failures == 0) logger.LogWarning("{What}: storage unreachable ({Error}); retrying with backoff", what, error.Message);
        else logger.LogDebug("{What}: still unreachable (attempt {Attempt}): {Error}", what, _failures + 1, error.Message);
        double ms = Math.Min(max.TotalMilliseconds, First.TotalMilliseconds * Math.Pow(2, Math.Min(_failures, 20)));
        _failures++;
        return TimeSpan.FromMilliseconds(ms * (0.75 + 0.5 * Random.Shared.NextDouble()));
    }

    public void Succeeded()
    {
        if (_failures > 0) logger.LogInformation("{What}: storage reachable again after {Failures} failed attempts", what, _failures);
        _failures = 0;
    }
}
