using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Pipeline.Driving.Geometry;

/// <summary>
/// atan2 in double precision over SIMD lanes, for the range view's per-point yaw and pitch (pitch = asin(z / d) =
/// atan2(z, sqrt(x² + y²))). Octant reduction to a = min(|x|, |y|), b = max(|x|, |y|), then to |t| ≤ tan(π/8) with
/// atan(a/b) = π/4 + atan((a - b)/(a + b)) when a/b &gt; tan(π/8) (one division either way), then
/// atan(t) = t + t z P(z), z = t², with P of degree 10: the Chebyshev interpolant of (atan(√z)/√z - 1)/z on
/// [0, tan²(π/8)] (coefficients from tests/Pipeline.Driving.Tests/data/make_atan_coefficients.py, 50-digit mpmath).
/// Error about 2e-16 relative on the reduced argument, a few double ulps after the octant steps (checked against
/// Math.Atan2 in the tests). Finite inputs; atan2(±0, ±0) = ±0 or ±π as Math.Atan2.
/// </summary>
public static class VectorAngles
{
    private const double TanPiOver8 = 0.41421356237309504880;
    private const double PiOver4 = Math.PI / 4, PiOver2 = Math.PI / 2;

    // P(z) = sum c_j z^j, lowest first
    private const double C0 = -0.3333333333333333, C1 = 0.1999999999999552, C2 = -0.14285714284666542,
        C3 = 0.11111111015256361, C4 = -0.09090904578123903, C5 = 0.07692183190826087, C6 = -0.06664511447381948,
        C7 = 0.0585814891280221, C8 = -0.0508544973794026, C9 = 0.03923165829558719, C10 = -0.01917688711906226;

    /// <summary>atan2(y, x) lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Atan2(Vector256<double> y, Vector256<double> x)
    {
        var ax = Vector256.Abs(x);
        var ay = Vector256.Abs(y);
        var a = Vector256.Min(ax, ay);
        var b = Vector256.Max(ax, ay);
        var big = Vector256.GreaterThan(a, b * TanPiOver8);
        var den = Vector256.ConditionalSelect(big, a + b, b);
        var t = Vector256.ConditionalSelect(big, a - b, a) / den;
        t = Vector256.ConditionalSelect(Vector256.Equals(den, Vector256<double>.Zero), Vector256<double>.Zero, t);
        var z = t * t;
        var p = Vector256.Create(C10);
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(C9));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(C8));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(C7));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(C6));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(C5));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(C4));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(C3));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(C2));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(C1));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(C0));
        var r = Vector256.FusedMultiplyAdd(t * z, p, t);
        r += Vector256.ConditionalSelect(big, Vector256.Create(PiOver4), Vector256<double>.Zero);
        r = Vector256.ConditionalSelect(Vector256.GreaterThan(ay, ax), Vector256.Create(PiOver2) - r, r);
        r = Vector256.ConditionalSelect(Vector256.IsNegative(x), Vector256.Create(Math.PI) - r, r); // x < 0 or x = -0
        return Vector256.CopySign(r, y);
    }

    /// <summary>atan2 over spans (destination[i] = atan2(y[i], x[i])); the tail shorter than a vector goes through the same lanes.</summary>
    public static void Atan2(ReadOnlySpan<double> y, ReadOnlySpan<double> x, Span<double> destination)
    {
        if (y.Length != x.Length || destination.Length != x.Length) throw new ArgumentException($"spans differ in length: y {y.Length}, x {x.Length}, destination {destination.Length}");
        int n = x.Length, i = 0, lanes = Vector256<double>.Count;
        for (; i + lanes <= n; i += lanes)
            Atan2(Vector256.Create(y.Slice(i, lanes)), Vector256.Create(x.Slice(i, lanes))).CopyTo(destination.Slice(i, lanes));
        if (i == n) return;
        Span<double> ty = stackalloc double[lanes], tx = stackalloc double[lanes], tr = stackalloc double[lanes];
        tx.Fill(1);
        y[i..].CopyTo(ty); x[i..].CopyTo(tx);
        Atan2(Vector256.Create((ReadOnlySpan<double>)ty), Vector256.Create((ReadOnlySpan<double>)tx)).CopyTo(tr);
        tr[..(n - i)].CopyTo(destination[i..]);
    }
}
