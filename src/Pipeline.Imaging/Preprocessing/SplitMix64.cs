namespace Pipeline.Imaging.Preprocessing;

/// <summary>
/// The deterministic generator every preprocessing choice draws from: SplitMix64 (Steele, Lea, Flood, "Fast splittable
/// pseudorandom number generators", OOPSLA 2014; the constants of Vigna's reference splitmix64.c). Chosen because it is
/// five lines in any language, so the Python side and tests can reproduce every draw exactly:
/// <code>
/// state += 0x9E3779B97F4A7C15; z = state
/// z = (z ^ (z &gt;&gt; 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z &gt;&gt; 27)) * 0x94D049BB133111EB; return z ^ (z &gt;&gt; 31)   (mod 2^64)
/// NextDouble = (NextUInt64 &gt;&gt; 11) * 2^-53                      (uniform in [0, 1))
/// NextInt(n) = floor(NextDouble * n)                             (bias below 2^-53 n, irrelevant at image sizes)
/// Uniform(a, b) = a + (b - a) * NextDouble
/// ForItem(seed, index) = new SplitMix64(Mix(seed ^ Mix(index + 0x9E3779B97F4A7C15)))   where Mix = one output step's finaliser
/// </code>
/// A mutable struct: pass it by ref.
/// </summary>
public struct SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>An independent stream for one item of a run, so items can be processed in any order and shard.</summary>
    public static SplitMix64 ForItem(ulong runSeed, ulong itemIndex) => new(Mix(runSeed ^ Mix(itemIndex + 0x9E3779B97F4A7C15UL)));

    public ulong State => _state;

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"n must be positive, got {n}");
        return Math.Min(n - 1, (int)(NextDouble() * n));
    }

    /// <summary>Uniform in [a, b).</summary>
    public double Uniform(double a, double b) => a + (b - a) * NextDouble();

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
