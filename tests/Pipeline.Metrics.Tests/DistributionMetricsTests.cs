using Pipeline.Metrics.Distribution;
using static Pipeline.Metrics.Tests.GoldenData;

namespace Pipeline.Metrics.Tests;

public class DistributionMetricsTests
{
    public static TheoryData<string, LinearAlgebraBackend> FdCases()
    {
        var t = new TheoryData<string, LinearAlgebraBackend>();
        foreach (var name in new[] { "full_rank", "near_singular", "tiny", "one_undersampled", "wider_full_rank" })
        {
            t.Add(name, LinearAlgebraBackend.Managed);
            if (DenseLinearAlgebra.NativeAvailable) t.Add(name, LinearAlgebraBackend.Native);
        }
        return t;
    }

    private static readonly string[] Undersampled = ["near_singular", "one_undersampled"];

    [Theory, MemberData(nameof(FdCases))]
    public void Fd_matches_the_exact_value_and_scipy_sqrtm_where_sqrtm_is_accurate(string name, LinearAlgebraBackend backend)
    {
        var c = Case("fd", name);
        int d = c.GetProperty("dim").GetInt32(), n1 = c.GetProperty("n1").GetInt32(), n2 = c.GetProperty("n2").GetInt32();
        var r = FrechetDistance.Compute(F32($"fd_{name}_x.f32"), n1, F32($"fd_{name}_y.f32"), n2, d, new FrechetOptions { Backend = backend });
        // fd_exact: 40-digit arithmetic from the same float32 features through the n1 x n1 Gram form (make_golden.py).
        AssertRelative(c.GetProperty("fd_exact").GetDouble(), r.Distance, 1e-11, $"FD {name} ({backend}) vs exact");
        AssertRelative(c.GetProperty("trace_sqrt_exact").GetDouble(), r.TraceSqrt, 1e-12, $"tr sqrt {name} ({backend}) vs exact");
        bool undersampled = Undersampled.Contains(name);
        // scipy's sqrtm is accurate for full-rank covariances; on singular ones it is off at ~1e-8 (see the golden file).
        AssertRelative(c.GetProperty("fd_scipy_sqrtm").GetDouble(), r.Distance, undersampled ? 1e-6 : 1e-9, $"FD {name} ({backend}) vs scipy sqrtm");
        Assert.Equal(backend, r.Backend);
        Assert.Equal(undersampled, r.NearSingular);
        Assert.Equal(undersampled ? FrechetMethod.PivotedCholesky : FrechetMethod.Cholesky, r.Method);
        Assert.Equal(Math.Min(d, n1 - 1), r.RankFirst);
        Assert.Equal(Math.Min(d, n2 - 1), r.RankSecond);
        if (undersampled) Assert.Contains(r.Warnings, w => w.Contains("singular"));
        else Assert.Empty(r.Warnings);
    }

    [Theory, MemberData(nameof(FdCases))]
    public void Rank_deficiency_is_detected_from_the_covariances_alone(string name, LinearAlgebraBackend backend)
    {
        // Statistics given without their sample counts: the path is chosen from the factorisation itself.
        var c = Case("fd", name);
        int d = c.GetProperty("dim").GetInt32();
        var a = FeatureStatistics.FromFeatures(F32($"fd_{name}_x.f32"), c.GetProperty("n1").GetInt32(), d, backend: backend);
        var b = FeatureStatistics.FromFeatures(F32($"fd_{name}_y.f32"), c.GetProperty("n2").GetInt32(), d, backend: backend);
        var r = FrechetDistance.Compute(new FeatureStatistics(a.Mean, a.Covariance, 0), new FeatureStatistics(b.Mean, b.Covariance, 0), new FrechetOptions { Backend = backend });
        AssertRelative(c.GetProperty("fd_exact").GetDouble(), r.Distance, 1e-11, $"FD {name} ({backend}) vs exact, sample counts unknown");
        bool undersampled = Undersampled.Contains(name);
        Assert.Equal(undersampled ? FrechetMethod.PivotedCholesky : FrechetMethod.Cholesky, r.Method);
        if (undersampled) Assert.Contains(r.Warnings, w => w.Contains("rank-deficient"));
    }

    [Fact]
    public void The_offset_variant_adds_eps_to_both_diagonals_like_pytorch_fid()
    {
        var c = Case("fd", "near_singular");
        int d = c.GetProperty("dim").GetInt32(), n1 = c.GetProperty("n1").GetInt32(), n2 = c.GetProperty("n2").GetInt32();
        var a = FeatureStatistics.FromFeatures(F32("fd_near_singular_x.f32"), n1, d);
        var b = FeatureStatistics.FromFeatures(F32("fd_near_singular_y.f32"), n2, d);
        var r = FrechetDistance.Compute(a, b, new FrechetOptions { AlwaysOffset = true, Offset = 1e-6 });
        Assert.True(r.OffsetApplied);
        Assert.Equal(FrechetMethod.Cholesky, r.Method); // S + eps I is positive definite
        // The regularised value differs from the exact one by O(sqrt(eps)) per null direction, and only slightly.
        double exact = c.GetProperty("fd_exact").GetDouble();
        Assert.InRange(Math.Abs(r.Distance - exact) / exact, 1e-9, 1e-2);
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
        Assert.Contains(kept.Warnings, w => w.Contains("second covariance is not positive semi-definite"));
        var neither = Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(s2, s2));
        Assert.Contains("neither covariance is positive definite", neither.Message);
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

    private static double[] RandomSymmetric(Random rng, int n, int rank)
    {
        // X^T X for an (rank x n) X: positive semi-definite of the given rank.
        var x = Enumerable.Range(0, rank * n).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var s = new double[n * n];
        DenseLinearAlgebra.Multiply(x, true, x, false, s, n, n, rank, LinearAlgebraBackend.Managed);
        return s;
    }

    [Fact]
    public void Managed_symmetric_eigenvalues_recover_a_known_spectrum()
    {
        // Q diag(lambda) Q^T with Q a product of Householder reflections: the eigenvalues are known exactly.
        var rng = new Random(5);
        int n = 37;
        var lambda = Enumerable.Range(0, n).Select(i => i % 5 == 0 ? 0.0 : Math.Pow(10, rng.NextDouble() * 6 - 3) * (i % 3 == 0 ? -1 : 1)).ToArray();
        var a = new double[n * n];
        for (int i = 0; i < n; i++) a[i * n + i] = lambda[i];
        for (int h = 0; h < 3; h++)
        {
            var v = Enumerable.Range(0, n).Select(_ => rng.NextDouble() - 0.5).ToArray();
            double vv = v.Sum(t => t * t);
            var q = new double[n * n];
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) q[i * n + j] = (i == j ? 1 : 0) - 2 * v[i] * v[j] / vv;
            var t1 = new double[n * n];
            DenseLinearAlgebra.Multiply(q, false, a, false, t1, n, n, n, LinearAlgebraBackend.Managed);
            DenseLinearAlgebra.Multiply(t1, false, q, true, a, n, n, n, LinearAlgebraBackend.Managed);
        }
        var w = new double[n];
        DenseLinearAlgebra.SymmetricEigenvalues(a, n, w, LinearAlgebraBackend.Managed);
        var expected = lambda.Order().ToArray();
        double scale = lambda.Max(Math.Abs);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(expected[i] - w[i]) <= 1e-13 * scale, $"eigenvalue {i}: {w[i]:R}, expected {expected[i]:R}");
    }

    [Fact]
    public void Native_and_managed_linear_algebra_agree()
    {
        if (!DenseLinearAlgebra.NativeAvailable) return; // the managed path is covered by the tests above
        var rng = new Random(11);
        int n = 40;
        var backends = new[] { LinearAlgebraBackend.Native, LinearAlgebraBackend.Managed };

        var s = RandomSymmetric(rng, n, n + 5);
        var t = RandomSymmetric(rng, n, n + 9);
        var w = backends.Select(b => { var w1 = new double[n]; DenseLinearAlgebra.SymmetricEigenvalues((double[])s.Clone(), n, w1, b); return w1; }).ToArray();
        for (int i = 0; i < n; i++) Assert.Equal(w[0][i], w[1][i], 10);

        // Cholesky: only the lower triangle is written; L L^T = S.
        var factors = backends.Select(b => { var l = (double[])s.Clone(); Assert.True(DenseLinearAlgebra.TryCholesky(l, n, b)); return l; }).ToArray();
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                Assert.Equal(j <= i ? factors[0][i * n + j] : s[i * n + j], factors[1][i * n + j], 11);
        Assert.False(DenseLinearAlgebra.TryCholesky(RandomSymmetric(rng, n, 10), n, LinearAlgebraBackend.Managed));
        Assert.False(DenseLinearAlgebra.TryCholesky(new double[] { 1, 2, 2, 1 }, 2, LinearAlgebraBackend.Native));

        // L^T T L, lower triangles compared.
        var congruence = backends.Select(b => { var c = (double[])t.Clone(); DenseLinearAlgebra.CholeskyCongruence(c, factors[0], n, b); return c; }).ToArray();
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) Assert.Equal(congruence[0][i * n + j], congruence[1][i * n + j], 9);

        // Pivoted Cholesky of a rank-12 matrix: same rank, and P L L^T P^T rebuilds S on both paths.
        var low = RandomSymmetric(rng, n, 12);
        double max = Enumerable.Range(0, n).Max(i => low[i * n + i]);
        foreach (var b in backends)
        {
            var l = (double[])low.Clone();
            var p = new int[n];
            int rank = DenseLinearAlgebra.PivotedCholesky(l, n, p, n * 2.2e-16 * max, b);
            Assert.Equal(12, rank);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    double sum = 0;
                    for (int k = 0; k <= Math.Min(Math.Min(i, j), rank - 1); k++) sum += l[i * n + k] * l[j * n + k];
                    Assert.Equal(low[p[i] * n + p[j]], sum, 12);
                }
        }

        var x = Enumerable.Range(0, n * 7).Select(_ => rng.NextDouble()).ToArray();
        var c1 = new double[n * 7]; var c2 = new double[n * 7];
        DenseLinearAlgebra.Multiply(s, true, x, false, c1, n, 7, n, LinearAlgebraBackend.Native);
        DenseLinearAlgebra.Multiply(s, true, x, false, c2, n, 7, n, LinearAlgebraBackend.Managed);
        for (int i = 0; i < c1.Length; i++) Assert.Equal(c1[i], c2[i], 10);
    }
}
