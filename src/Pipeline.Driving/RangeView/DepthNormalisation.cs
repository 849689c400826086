using System.Runtime.Intrinsics;

namespace Pipeline.Driving.RangeView;

/// <summary>
/// MObI's range-image normalisations (thesis §2.3.2, "Range image encoding") and their inverses. See docs/driving.md,
/// "Normalisations".
/// <list type="bullet">
/// <item>Intensity i ∈ [0, 255]: i' = 2 exp(-λ i / 255) - 1 with λ = 4 (the exponential CDF), so 0 -> 1, 255 -> 2e⁻⁴ - 1.</item>
/// <item>Depth: linear d_lin = 2 d / 54 - 1 (the public implementation's form: an empty pixel, depth 0, maps to -1),
/// then the object-aware piecewise map with α = 0.75 around [min_d, max_d], the linear depths of the box's corners:
/// [-1, min_d) -> [-1, -α), [min_d, max_d] -> [-α, α], (max_d, 1] -> (α, 1].</item>
/// </list>
/// </summary>
public readonly record struct DepthNormalisation(double MinD, double MaxD, double Alpha, double MaxDepth)
{
    public const double DefaultAlpha = 0.75;
    public const double IntensityLambda = 4;
    public const double DefaultMaxDepth = 54;

    /// <summary>Keeps min_d and max_d strictly inside (-1, 1) and apart, so every branch is invertible.</summary>
    private const double Margin = 1e-6;

    /// <summary>The map for a box whose corners lie at <paramref name="cornerDepths"/> metres.</summary>
    public static DepthNormalisation ForBox(ReadOnlySpan<double> cornerDepths, double alpha = DefaultAlpha, double maxDepth = DefaultMaxDepth)
    {
        if (cornerDepths.IsEmpty) throw new ArgumentException("a box needs corner depths", nameof(cornerDepths));
        if (!(alpha > 0 && alpha < 1)) throw new ArgumentOutOfRangeException(nameof(alpha), $"alpha must be in (0, 1), got {alpha}");
        double lo = double.MaxValue, hi = double.MinValue;
        foreach (var d in cornerDepths) { lo = Math.Min(lo, Linear(d, maxDepth)); hi = Math.Max(hi, Linear(d, maxDepth)); }
        lo = Math.Clamp(lo, -1 + Margin, 1 - 2 * Margin);
        hi = Math.Min(Math.Max(hi, lo + Margin), 1 - Margin);
        return new DepthNormalisation(lo, hi, alpha, maxDepth);
    }

    public static double Linear(double depth, double maxDepth = DefaultMaxDepth) => 2 * depth / maxDepth - 1;
    public static double LinearInverse(double linear, double maxDepth = DefaultMaxDepth) => (linear + 1) * maxDepth / 2;

    /// <summary>Depth in metres -> normalised depth in [-1, 1].</summary>
    public double Normalise(double depth)
    {
        double d = Math.Clamp(Linear(depth, MaxDepth), -1, 1);
        if (d < MinD) return -1 + (1 - Alpha) * (d + 1) / (MinD + 1);
        if (d <= MaxD) return -Alpha + 2 * Alpha * (d - MinD) / (MaxD - MinD);
        return Alpha + (1 - Alpha) * (d - MaxD) / (1 - MaxD);
    }

    /// <summary>Normalised depth -> metres (values outside [-1, 1] are clamped first).</summary>
    public double Denormalise(double normalised)
    {
        double n = Math.Clamp(normalised, -1, 1), d;
        if (n < -Alpha) d = -1 + (n + 1) * (MinD + 1) / (1 - Alpha);
        else if (n <= Alpha) d = MinD + (n + Alpha) * (MaxD - MinD) / (2 * Alpha);
        else d = MaxD + (n - Alpha) * (1 - MaxD) / (1 - Alpha);
        return LinearInverse(d, MaxDepth);
    }

    /// <summary>Intensity [0, 255] -> [-1, 1].</summary>
    public static double NormaliseIntensity(double intensity) => 2 * Math.Exp(-IntensityLambda * intensity / 255) - 1;

    /// <summary>[-1, 1] -> intensity, clamped to [0, 255].</summary>
    public static double DenormaliseIntensity(double normalised)
    {
        double q = (Math.Clamp(normalised, -1, 1) + 1) / 2;
        return q <= 0 ? 255 : Math.Clamp(-255 / IntensityLambda * Math.Log(q), 0, 255);
    }

    /// <summary><see cref="Normalise(double)"/> over a plane, eight samples at a time (the same double operations, so
    /// the same values).</summary>
    public void Normalise(ReadOnlySpan<float> depth, Span<float> destination)
    {
        if (destination.Length < depth.Length) throw new ArgumentException($"destination holds {destination.Length} samples, fewer than {depth.Length}", nameof(destination));
        int i = 0, lanes = Vector256<float>.Count;
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256<double>.One;
            var maxDepth = Vector256.Create(MaxDepth);
            var minD = Vector256.Create(MinD);
            var maxD = Vector256.Create(MaxD);
            var alpha = Vector256.Create(Alpha);
            for (; i + lanes <= depth.Length; i += lanes)
            {
                var (lower, upper) = Vector256.Widen(Vector256.Create(depth.Slice(i, lanes)));
                Vector256.Narrow(Map(lower), Map(upper)).CopyTo(destination.Slice(i, lanes));
            }

            Vector256<double> Map(Vector256<double> depthV)
            {
                // the operations of Normalise(double), in its order
                var d = Vector256.Min(Vector256.Max(depthV * 2 / maxDepth - one, -one), one);
                var low = -one + (one - alpha) * (d + one) / (minD + one);
                var mid = -alpha + 2 * alpha * (d - minD) / (maxD - minD);
                var high = alpha + (one - alpha) * (d - maxD) / (one - maxD);
                return Vector256.ConditionalSelect(Vector256.LessThan(d, minD), low, Vector256.ConditionalSelect(Vector256.LessThanOrEqual(d, maxD), mid, high));
            }
        }
        for (; i < depth.Length; i++) destination[i] = (float)Normalise(depth[i]);
    }

    public void Denormalise(ReadOnlySpan<float> normalised, Span<float> destination)
    {
        for (int i = 0; i < normalised.Length; i++) destination[i] = (float)Denormalise(normalised[i]);
    }

    /// <summary><see cref="NormaliseIntensity(double)"/> over a plane, eight samples at a time (SIMD exp, within 2 double
    /// ulps of <see cref="Math.Exp"/>).</summary>
    public static void NormaliseIntensity(ReadOnlySpan<float> intensity, Span<float> destination)
    {
        if (destination.Length < intensity.Length) throw new ArgumentException($"destination holds {destination.Length} samples, fewer than {intensity.Length}", nameof(destination));
        int i = 0, lanes = Vector256<float>.Count;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + lanes <= intensity.Length; i += lanes)
            {
                var (lower, upper) = Vector256.Widen(Vector256.Create(intensity.Slice(i, lanes)));
                Vector256.Narrow(Map(lower), Map(upper)).CopyTo(destination.Slice(i, lanes));
            }

            static Vector256<double> Map(Vector256<double> v) => Vector256.Exp(v * -IntensityLambda / 255) * 2 - Vector256<double>.One;
        }
        for (; i < intensity.Length; i++) destination[i] = (float)NormaliseIntensity(intensity[i]);
    }

    public static void DenormaliseIntensity(ReadOnlySpan<float> normalised, Span<float> destination)
    {
        for (int i = 0; i < normalised.Length; i++) destination[i] = (float)DenormaliseIntensity(normalised[i]);
    }
}
