using Pipeline.Metrics.Distribution;
using static Pipeline.Metrics.Tests.GoldenData;

namespace Pipeline.Metrics.Tests;

public class DistributionMetricsTests
{
    public static TheoryData<string, LinearAlgebraBackend> FdCases()
    {
        var t = new TheoryData<string, LinearAlgebraBackend>();
        foreach (var name in new[] { "full_rank", "near_singular", "tiny" })
        {
            t.Add(name, LinearAlgebraBackend.Managed);
            if (DenseLinearAlgebra.NativeAvailable) t.Add(name, LinearAlgebraBackend.Native);
        }
        return t;
    }

    [Theory, MemberData(nameof(FdCases))]
    public void Fd_matches_scipy_sqrtm_as_pytorch_fid_computes_it(string name, LinearAlgebraBackend backend)
    {
        var c = Case("fd", name);
        int d = c.GetProperty("dim").GetInt32();
        var r = FrechetDistance.Compute(F32($"fd_{name}_x.f32"), c.GetProperty("n1").GetInt32(), F32($"fd_{name}_y.f32"), c.GetProperty("n2").GetInt32(), d,
            new FrechetOptions { Backend = backend });
        AssertRelative(c.GetProperty("fd_scipy_sqrtm").GetDouble(), r.Distance, 1e-5, $"FD {name} ({backend})");
        // sqrt of rounding-level eigenvalues (~1e-15 -> 3e-8) makes the singular case differ at ~1e-8 between any two methods.
        AssertRelative(c.GetProperty("fd_numpy_eigh").GetDouble(), r.Distance, 1e-7, $"FD {name} vs numpy eigh ({backend})");
        Assert.Equal(backend, r.Backend);
        Assert.Equal(name == "near_singular", r.NearSingular);
        if (name == "near_singular") Assert.Contains(r.Warnings, w => w.Contains("singular"));
    }

    [Fact]
    public void Fd_of_means_zero_and_one_with_identity_covariance_in_2048_dims_is_2048()
    {
        // pytorch-fid tests/test_fid_score.py: mu1 = 0, mu2 = 1, Sigma = I, d = 2048 -> FID = 2048.
        const int d = 2048;
        var eye = new double[d * d];
        for (int i = 0; i < d; i++) eye[i * d + i] = 1;
        var a = new FeatureStatistics(new double[d], eye, 0);
        var b = new FeatureStatistics(Enumerable.Repeat(1.0, d).ToArray(), (double[])eye.Clone(), 0);
        var r = FrechetDistance.Compute(a, b);
        Assert.Equal(2048.0, r.Distance, 9);
        Assert.False(r.OffsetApplied);
    }

    [Fact]
    public void Identical_sets_give_fd_zero()
    {
        var rng = new Random(7);
        int n = 200, d = 16;
        var f = Enumerable.Range(0, n * d).Select(_ => (float)rng.NextDouble()).ToArray();
        var r = FrechetDistance.Compute(f, n, f, n, d);
        Assert.Equal(0.0, r.Distance, 10);
    }

    [Fact]
    public void Fd_rejects_mismatched_dimensions_and_non_finite_features()
    {
        var ex = Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(new float[20], 5, new float[15], 5, 4));
        Assert.Contains("5 x 4", ex.Message);
        var bad = new float[20]; bad[7] = float.NaN;
        ex = Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(bad, 5, new float[20], 5, 4));
        Assert.Contains("feature vector 1", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(new FeatureStatistics(new double[3], new double[9], 5), new FeatureStatistics(new double[4], new double[16], 5)));
        Assert.Contains("different dimensions", ex.Message);
    }

    [Fact]
    public void Raise_policy_fails_like_pytorch_fid_when_the_root_has_a_large_imaginary_part()
    {
        // An indefinite "covariance" (not PSD) makes S1^(1/2) S2 S1^(1/2) have clearly negative eigenvalues.
        int d = 2;
        var s1 = new FeatureStatistics(new double[d], [1, 0, 0, 1], 0);
        var s2 = new FeatureStatistics(new double[d], [1, 0, 0, -0.5], 0);
        var kept = FrechetDistance.Compute(s1, s2);
        Assert.Equal(Math.Sqrt(0.5), kept.ImaginaryComponent, 12);
        Assert.Throws<ArithmeticException>(() => FrechetDistance.Compute(s1, s2, new FrechetOptions { ImaginaryPart = ImaginaryPartPolicy.RaiseAboveTolerance }));
    }

    [Fact]
    public void Kid_matches_the_torch_reference_on_the_same_subsets()
    {
        var k = Root.GetProperty("kid");
        int d = k.GetProperty("dim").GetInt32(), m = k.GetProperty("subset_size").GetInt32();
        var fx = F32("kid_x.f32");
        var fy = F32("kid_y.f32");
        var values = new List<double>();
        int s = 0;
        foreach (var subset in k.GetProperty("subsets").EnumerateArray())
        {
            var x = subset.GetProperty("x").EnumerateArray().SelectMany(i => fx.Skip(i.GetInt32() * d).Take(d)).Select(v => (double)v).ToArray();
            var y = subset.GetProperty("y").EnumerateArray().SelectMany(i => fy.Skip(i.GetInt32() * d).Take(d)).Select(v => (double)v).ToArray();
            double v = KernelInceptionDistance.PolynomialMmd2(x, y, m, d);
            AssertRelative(k.GetProperty("values")[s++].GetDouble(), v, 1e-9, $"MMD^2 subset {s}");
            values.Add(v);
        }
        double mean = values.Average();
        AssertRelative(k.GetProperty("mean").GetDouble(), mean, 1e-9, "KID mean");
        AssertRelative(k.GetProperty("std").GetDouble(), Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Count), 1e-9, "KID std");
        // One subset that is the whole of both sets needs no sampling: compare the public entry point directly.
        var full = KernelInceptionDistance.Compute(fx.AsSpan(0, 50 * d), 50, fy, 50, d, new KidOptions { SubsetSize = 50, SubsetCount = 1 });
        AssertRelative(k.GetProperty("full_equal_size").GetDouble(), full.Mean, 1e-9, "KID full sets");
        Assert.Equal(0, full.Std);
    }

    [Fact]
    public void Kid_is_reproducible_for_a_seed_and_varies_with_it()
    {
        var fx = F32("kid_x.f32");
        var fy = F32("kid_y.f32");
        var o = new KidOptions { SubsetSize = 20, SubsetCount = 10, Seed = 3 };
        var r1 = KernelInceptionDistance.Compute(fx, 60, fy, 50, 16, o);
        var r2 = KernelInceptionDistance.Compute(fx, 60, fy, 50, 16, o);
        var r3 = KernelInceptionDistance.Compute(fx, 60, fy, 50, 16, o with { Seed = 4 });
        Assert.Equal(r1.SubsetValues, r2.SubsetValues);
        Assert.NotEqual(r1.Mean, r3.Mean);
        Assert.True(r1.Std > 0);
    }

    [Fact]
    public void Kid_on_too_few_samples_errors_clearly_unless_shrinking_is_asked_for()
    {
        var fx = new float[30 * 4];
        var fy = new float[40 * 4];
        var ex = Assert.Throws<InsufficientSamplesException>(() => KernelInceptionDistance.Compute(fx, 30, fy, 40, 4, new KidOptions { SubsetSize = 35 }));
        Assert.Contains("subset size is 35 but the first set has only 30", ex.Message);
        var shrunk = KernelInceptionDistance.Compute(fx, 30, fy, 40, 4, new KidOptions { SubsetSize = 35, SubsetCount = 2, ShrinkSubsetToSamples = true });
        Assert.Equal(30, shrunk.SubsetSize);
        Assert.Single(shrunk.Warnings);
    }

    [Fact]
    public void Identical_sets_give_kid_near_zero()
    {
        var rng = new Random(1);
        var f = Enumerable.Range(0, 100 * 8).Select(_ => (float)rng.NextDouble()).ToArray();
        var r = KernelInceptionDistance.Compute(f, 100, f, 100, 8, new KidOptions { SubsetSize = 100, SubsetCount = 1 });
        // Same set, same subset order: K_XX = K_YY = K_XY, and the unbiased estimate is -2 tr(K)/m^2 + ... exactly
        // (sum_offdiag (2/(m(m-1)) - 2/m^2)) - 2 tr/m^2, small relative to the kernel values.
        Assert.True(Math.Abs(r.Mean) < 0.05, $"KID of a set with itself was {r.Mean}");
    }

    [Fact]
    public void Native_and_managed_linear_algebra_agree()
    {
        if (!DenseLinearAlgebra.NativeAvailable) return; // the managed path is covered by the golden tests above
        var rng = new Random(11);
        int n = 40;
        var a = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.NextDouble();
        var w1 = new double[n]; var w2 = new double[n];
        DenseLinearAlgebra.SymmetricEigen((double[])a.Clone(), n, w1, false, LinearAlgebraBackend.Native);
        DenseLinearAlgebra.SymmetricEigen((double[])a.Clone(), n, w2, false, LinearAlgebraBackend.Managed);
        for (int i = 0; i < n; i++) Assert.Equal(w1[i], w2[i], 9);
        var b = Enumerable.Range(0, n * 7).Select(_ => rng.NextDouble()).ToArray();
        var c1 = new double[n * 7]; var c2 = new double[n * 7];
        DenseLinearAlgebra.Multiply(a, true, b, false, c1, n, 7, n, LinearAlgebraBackend.Native);
        DenseLinearAlgebra.Multiply(a, true, b, false, c2, n, 7, n, LinearAlgebraBackend.Managed);
        for (int i = 0; i < c1.Length; i++) Assert.Equal(c1[i], c2[i], 10);
    }
}
