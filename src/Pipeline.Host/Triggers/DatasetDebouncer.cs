namespace Pipeline.Host.Triggers;

/// <summary>
/// Decides when a dataset is due for ingestion, from successive observations of its fingerprint (a hash of its blobs'
/// names, sizes and ETags): once the fingerprint has stayed the same for the debounce period and differs from the last
/// one ingested. Failed ingestions are retried with doubling delays, up to a number of attempts per fingerprint; a new
/// fingerprint starts over. Pure state, no I/O, so its timing rules are tested without clocks.
/// </summary>
public sealed class DatasetDebouncer(TimeSpan debounce, int maxAttempts, TimeSpan retryDelay)
{
    private sealed class State
    {
        public required string Fingerprint;
        public DateTimeOffset ChangedAt;
        public string? Ingested;
        public int Failures;
        public DateTimeOffset RetryAt;
    }

    private readonly Dictionary<string, State> _states = new(StringComparer.Ordinal);

    /// <summary>Records the current fingerprint of a dataset; <paramref name="ingestedFingerprint"/> is the fingerprint
    /// the dataset's existing index was made from, if known (it survives a restart of the host).</summary>
    public void Observe(string dataset, string fingerprint, string? ingestedFingerprint, DateTimeOffset now)
    {
        if (!_states.TryGetValue(dataset, out var s))
        {
            _states[dataset] = new State { Fingerprint = fingerprint, ChangedAt = now, Ingested = ingestedFingerprint };
            return;
        }
        if (ingestedFingerprint is not null) s.Ingested = ingestedFingerprint;
        if (s.Fingerprint != fingerprint)
        {
            s.Fingerprint = fingerprint;
            s.ChangedAt = now;
            s.Failures = 0;
            s.RetryAt = default;
        }
    }

    /// <summary>Forgets datasets that are no longer present.</summary>
    public void Retain(IReadOnlySet<string> present)
    {
        foreach (var name in _states.Keys.Where(n => !present.Contains(n)).ToList()) _states.Remove(name);
    }

    /// <summary>Datasets to ingest now, with the fingerprint each ingestion is for.</summary>
    public IReadOnlyList<(string Dataset, string Fingerprint)> Due(DateTimeOffset now) =>
        _states.Where(kv => kv.Value.Fingerprint != kv.Value.Ingested
                            && now - kv.Value.ChangedAt >= debounce
                            && kv.Value.Failures < maxAttempts
                            && now >= kv.Value.RetryAt)
            .Select(kv => (kv.Key, kv.Value.Fingerprint))
            .OrderBy(d => d.Key, StringComparer.Ordinal)
            .ToList();

    public void Succeeded(string dataset, string fingerprint)
    {
        if (_states.TryGetValue(dataset, out var s)) { s.Ingested = fingerprint; s.Failures = 0; }
    }

    /// <summary>Records a failure; returns false when no attempts are left for this fingerprint.</summary>
    public bool Failed(string dataset, DateTimeOffset now)
    {
        if (!_states.TryGetValue(dataset, out var s)) return false;
        s.Failures++;
        s.RetryAt = now + retryDelay * Math.Pow(2, s.Failures - 1);
        return s.Failures < maxAttempts;
    }
}
