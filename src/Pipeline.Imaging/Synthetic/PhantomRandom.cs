namespace Pipeline.Imaging.Synthetic;

/// <summary>
/// xoshiro256** (Blackman and Vigna, 2018) seeded through SplitMix64: a small, fast generator whose sequence is fixed by
/// this code alone (not by the runtime's System.Random), so a synthetic dataset is identical on every machine and
/// .NET version for the same seed.
/// </summary>
public sealed class PhantomRandom
{
    private ulong _s0, _s1, _s2, _s3;

    public PhantomRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    /// <summary>A generator for a named sub-stream, independent of how many values other streams drew.</summary>
    public static PhantomRandom For(ulong seed, params long[] path)
    {
        ulong h = seed ^ 0x9E3779B97F4A7C15UL;
        foreach (var p in path) { ulong x = h ^ (ulong)p; h = SplitMix(ref x) ^ (h << 1); }
        return new PhantomRandom(h);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3; _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Uniform integer in [lo, hi).</summary>
    public int Next(int lo, int hi) => lo + (int)(NextDouble() * (hi - lo));

    public bool Chance(double p) => NextDouble() < p;

    /// <summary>Standard normal by Box-Muller.</summary>
    public double Normal()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(0, items.Count)];
}
