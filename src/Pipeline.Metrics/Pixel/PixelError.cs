using System.Numerics;
using System.Runtime.InteropServices;

namespace Pipeline.Metrics.Pixel;

/// <summary>MSE, MAE and PSNR of one image pair, each on the whole image and inside / outside a mask.</summary>
public sealed record PixelErrorScores(RegionScores Mse, RegionScores Mae, RegionScores Psnr);

/// <summary>
/// Squared and absolute sample differences accumulated in float64 over every channel of the pixels of a region, and
/// PSNR = 10 log10(L^2 / MSE) (scikit-image <c>peak_signal_noise_ratio</c>, torchmetrics <c>peak_signal_noise_ratio</c>)
/// with an explicit data range L. Identical images give MSE 0 and PSNR +infinity, as scikit-image does.
/// </summary>
public static class PixelError
{
    public static PixelErrorScores Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b, PlaneShape shape, double dataRange, ReadOnlySpan<byte> mask = default)
    {
        shape.Validate(a.Length, b.Length, mask.Length, "PSNR/MSE");
        PlaneShape.CheckFinite(a, "PSNR/MSE", "first");
        PlaneShape.CheckFinite(b, "PSNR/MSE", "second");
        if (!(dataRange > 0) || double.IsInfinity(dataRange))
            throw new ArgumentOutOfRangeException(nameof(dataRange), dataRange, "PSNR data range must be a positive finite number (e.g. 255 for 8-bit, 1 for [0,1] images)");
        var (sq, ab) = Sums(a, b);
        long n = a.Length;
        var mse = new RegionScores(sq / n);
        var mae = new RegionScores(ab / n);
        if (mask.Length > 0)
        {
            double sqIn = 0, abIn = 0;
            long nIn = 0;
            int c = shape.Channels;
            for (int p = 0; p < mask.Length; p++)
            {
                if (mask[p] == 0) continue;
                var (s, t) = Sums(a.Slice(p * c, c), b.Slice(p * c, c));
                sqIn += s; abIn += t; nIn += c;
            }
            long nOut = n - nIn;
            mse = mse with { Inside = nIn > 0 ? sqIn / nIn : null, Outside = nOut > 0 ? (sq - sqIn) / nOut : null };
            mae = mae with { Inside = nIn > 0 ? abIn / nIn : null, Outside = nOut > 0 ? (ab - abIn) / nOut : null };
        }
        double l2 = dataRange * dataRange;
        double Psnr(double m) => 10 * Math.Log10(l2 / m);
        var psnr = new RegionScores(Psnr(mse.Whole), mse.Inside is { } i ? Psnr(i) : null, mse.Outside is { } o ? Psnr(o) : null);
        return new PixelErrorScores(mse, mae, psnr);
    }

    /// <summary>Peak signal-to-noise ratio of the whole image (dB).</summary>
    public static double Psnr(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double dataRange) =>
        Compute(a, b, new PlaneShape(a.Length, 1), dataRange).Psnr.Whole;

    /// <summary>(sum of squared differences, sum of absolute differences) in float64, vectorised.</summary>
    private static (double Squared, double Absolute) Sums(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int i = 0, vf = Vector<float>.Count;
        var sq = Vector<double>.Zero;
        var ab = Vector<double>.Zero;
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        for (; i <= a.Length - vf; i += vf)
        {
            // widen before subtracting so the difference itself is exact in float64
            Vector.Widen(Vector.LoadUnsafe(ref ra, (nuint)i), out var a0, out var a1);
            Vector.Widen(Vector.LoadUnsafe(ref rb, (nuint)i), out var b0, out var b1);
            var d0 = a0 - b0;
            var d1 = a1 - b1;
            sq += d0 * d0 + d1 * d1;
            ab += Vector.Abs(d0) + Vector.Abs(d1);
        }
        double s = Vector.Sum(sq), t = Vector.Sum(ab);
        for (; i < a.Length; i++)
        {
            double d = (double)a[i] - b[i];
            s += d * d; t += Math.Abs(d);
        }
        return (s, t);
    }
}
