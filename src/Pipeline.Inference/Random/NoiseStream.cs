namespace Pipeline.Inference.Noise;

/// <summary>What a block of noise is for; part of the counter, so the streams of different purposes never overlap.</summary>
public enum NoisePurpose : uint
{
    /// <summary>x_T, the starting sample.</summary>
    Initial = 0,
    /// <summary>The scheduler's own noise at a loop iteration (DDPM; DDIM with eta &gt; 0).</summary>
    SchedulerStep = 1,
    /// <summary>Forward noise that re-noises the known region (known-region blending).</summary>
    KnownRegion = 2,
    /// <summary>RePaint's forward jump x_{t-1} -> x_t.</summary>
    Resample = 3,
}

/// <summary>
/// Standard normal noise for one item, a pure function of (run seed, item id, purpose, iteration, element index):
/// the same item gets the same noise whatever the batch size, the batch order or the other items.
/// <para>Definition (also implemented in tests/Pipeline.Inference.Tests/data/sampling/noise.py):
/// key = (seed mod 2^32, seed div 2^32); for element block j (4 elements each),
/// counter = (j, purpose·2^24 + iteration, item mod 2^32, item div 2^32);
/// (x0, x1, x2, x3) = Philox4x32-10(counter, key); Box-Muller in float64 on each pair:
/// u1 = (x0 + 1)/2^32 ∈ (0, 1], u2 = x1/2^32, r = sqrt(-2 ln u1), z0 = r cos(2π u2), z1 = r sin(2π u2)
/// (and z2, z3 from x2, x3); element 4j + i is z_i rounded to float32.</para>
/// </summary>
public readonly struct NoiseStream(ulong runSeed, ulong itemId)
{
    private const double TwoPow32 = 4294967296.0;
    /// <summary>Iterations per purpose: the iteration field is 24 bits wide.</summary>
    public const int MaxIteration = (1 << 24) - 1;

    public ulong RunSeed { get; } = runSeed;
    public ulong ItemId { get; } = itemId;

    /// <summary>Fills <paramref name="destination"/> with N(0, 1) noise of the given purpose and iteration.</summary>
    public void Fill(Span<float> destination, NoisePurpose purpose, int iteration)
    {
        if ((uint)iteration > MaxIteration) throw new ArgumentOutOfRangeException(nameof(iteration), $"iteration must be in 0..{MaxIteration}");
        uint k0 = (uint)RunSeed, k1 = (uint)(RunSeed >> 32);
        uint c1 = ((uint)purpose << 24) | (uint)iteration, c2 = (uint)ItemId, c3 = (uint)(ItemId >> 32);
        Span<float> z = stackalloc float[4];
        for (int j = 0, i = 0; i < destination.Length; j++, i += 4)
        {
            var (x0, x1, x2, x3) = Philox4x32.Block((uint)j, c1, c2, c3, k0, k1);
            BoxMuller(x0, x1, out z[0], out z[1]);
            BoxMuller(x2, x3, out z[2], out z[3]);
            var n = Math.Min(4, destination.Length - i);
            z[..n].CopyTo(destination.Slice(i, n));
        }
    }

    private static void BoxMuller(uint a, uint b, out float z0, out float z1)
    {
        var u1 = (a + 1.0) / TwoPow32;
        var u2 = b / TwoPow32;
        var r = Math.Sqrt(-2.0 * Math.Log(u1));
        var theta = 2.0 * Math.PI * u2;
        z0 = (float)(r * Math.Cos(theta));
        z1 = (float)(r * Math.Sin(theta));
    }

    /// <summary>
    /// A stable 64-bit item id from a text id (FNV-1a 64 over its UTF-8 bytes), for items named by strings.
    /// </summary>
    public static ulong ItemIdFromString(string id)
    {
        var h = 0xcbf29ce484222325UL;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(id)) { h ^= b; h *= 0x100000001b3UL; }
        return h;
    }
}
