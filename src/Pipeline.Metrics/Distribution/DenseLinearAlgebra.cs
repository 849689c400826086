using System.Runtime.InteropServices;
using MathNet.Numerics.LinearAlgebra;

namespace Pipeline.Metrics.Distribution;

/// <summary>Which implementation runs the dense float64 linear algebra of the distribution metrics.</summary>
public enum LinearAlgebraBackend
{
    /// <summary>LAPACK/BLAS when the native libraries load, otherwise managed.</summary>
    Auto,
    /// <summary>LAPACKE (dpotrf, dpstrf, dsygst, dsyevd) from liblapacke.so.3 and cblas_dgemm from OpenBLAS (Debian liblapacke, libopenblas0-pthread); fails if absent.</summary>
    Native,
    /// <summary>Managed code (<see cref="ManagedLinearAlgebra"/>, products by MathNet.Numerics): always available, the same results, several times slower at d = 2048.</summary>
    Managed,
}

/// <summary>
/// The dense kernels the Fréchet distance and KID need, on row-major float64 arrays: Cholesky (plain and pivoted),
/// the congruence L^T S L, values-only symmetric eigenvalues and the matrix product.
/// <para>
/// Symmetric matrices are read from, and triangular factors written to, the <b>lower triangle of the row-major
/// array</b>. That is the upper triangle of the same memory read column-major, so the native path calls LAPACKE in
/// column-major layout with uplo = 'U' and LAPACKE never transposes a copy. The native path binds LAPACKE/CBLAS
/// through function pointers resolved with <see cref="NativeLibrary"/> (no DllImport resolver needed).
/// </para>
/// </summary>
public static unsafe class DenseLinearAlgebra
{
    private const int RowMajor = 101, ColumnMajor = 102;   // LAPACK_ROW_MAJOR / CblasRowMajor, LAPACK_COL_MAJOR
    private const int NoTrans = 111, Trans = 112;
    private const byte Upper = (byte)'U';

    private static readonly Lazy<NativeKernels?> Native = new(LoadNative);

    /// <summary>True when LAPACK and BLAS were found (the reason otherwise in <see cref="NativeUnavailableReason"/>).</summary>
    public static bool NativeAvailable => Native.Value is not null;

    public static string? NativeUnavailableReason { get; private set; }

    /// <summary>The BLAS's own description (OpenBLAS: openblas_get_config and the core type it chose, which OPENBLAS_CORETYPE can force); null when unknown.</summary>
    public static string? NativeDescription => Native.Value?.Description;

    /// <summary>The backend <paramref name="requested"/> resolves to on this machine.</summary>
    public static LinearAlgebraBackend Resolve(LinearAlgebraBackend requested) => requested switch
    {
        LinearAlgebraBackend.Auto => NativeAvailable ? LinearAlgebraBackend.Native : LinearAlgebraBackend.Managed,
        LinearAlgebraBackend.Native when !NativeAvailable => throw new InvalidOperationException(
            $"native LAPACK/BLAS is not available ({NativeUnavailableReason}); install Debian's liblapacke and libopenblas0-pthread or use LinearAlgebraBackend.Managed"),
        _ => requested,
    };

    /// <summary>
    /// Cholesky factor S = L L^T of the symmetric n x n matrix in the lower triangle of <paramref name="a"/>, written
    /// over that triangle (the upper triangle is left as it was). False when S is not numerically positive definite
    /// (a pivot is not positive); <paramref name="a"/> is then partly overwritten.
    /// </summary>
    public static bool TryCholesky(double[] a, int n, LinearAlgebraBackend backend = LinearAlgebraBackend.Auto)
    {
        CheckSquare(a, n, "Cholesky");
        if (Resolve(backend) == LinearAlgebraBackend.Native)
        {
            int info;
            fixed (double* pa = a) info = Native.Value!.Dpotrf(ColumnMajor, Upper, n, pa, n);
            if (info < 0) throw new InvalidOperationException($"LAPACKE_dpotrf: argument {-info} was invalid (n = {n})");
            return info == 0;
        }
        return ManagedLinearAlgebra.Cholesky(a, n, pivot: false, tolerance: 0, permutation: null) == n;
    }

    /// <summary>
    /// Pivoted Cholesky P^T S P = L L^T of the positive semi-definite matrix in the lower triangle of
    /// <paramref name="a"/>, stopped at the first pivot at or below <paramref name="tolerance"/>: returns the rank r, and
    /// L (n x r, lower trapezoidal) is in the first r columns of the lower triangle. <paramref name="permutation"/>[i] is
    /// the row of S that row i of L belongs to, so S[p[i], p[j]] = (L L^T)[i, j]. LAPACK's dpstrf (Higham 2002, §10.3).
    /// </summary>
    public static int PivotedCholesky(double[] a, int n, int[] permutation, double tolerance, LinearAlgebraBackend backend = LinearAlgebraBackend.Auto)
    {
        CheckSquare(a, n, "pivoted Cholesky");
        if (permutation.Length < n) throw new ArgumentException($"pivoted Cholesky: the permutation needs {n} entries");
        if (Resolve(backend) == LinearAlgebraBackend.Native)
        {
            int info, rank;
            fixed (double* pa = a)
            fixed (int* pp = permutation)
                info = Native.Value!.Dpstrf(ColumnMajor, Upper, n, pa, n, pp, &rank, tolerance);
            if (info < 0) throw new InvalidOperationException($"LAPACKE_dpstrf: argument {-info} was invalid (n = {n})");
            for (int i = 0; i < n; i++) permutation[i]--; // Fortran's 1-based pivots
            return rank;
        }
        return ManagedLinearAlgebra.Cholesky(a, n, pivot: true, tolerance, permutation);
    }

    /// <summary>
    /// S := L^T S L for the symmetric S in the lower triangle of <paramref name="s"/> and the Cholesky factor L in the
    /// lower triangle of <paramref name="factor"/>; the result is written over the lower triangle of <paramref name="s"/>.
    /// L^T S L has the eigenvalues of S L L^T (LAPACK dsygst, itype 2: the reduction of A B x = lambda x).
    /// </summary>
    public static void CholeskyCongruence(double[] s, double[] factor, int n, LinearAlgebraBackend backend = LinearAlgebraBackend.Auto)
    {
        CheckSquare(s, n, "congruence");
        CheckSquare(factor, n, "congruence");
        if (Resolve(backend) == LinearAlgebraBackend.Native)
        {
            int info;
            fixed (double* ps = s, pl = factor) info = Native.Value!.Dsygst(ColumnMajor, 2, Upper, n, ps, n, pl, n);
            if (info != 0) throw new InvalidOperationException($"LAPACKE_dsygst failed with info = {info} (n = {n})");
            return;
        }
        ManagedLinearAlgebra.CholeskyCongruence(s, factor, n);
    }

    /// <summary>
    /// Eigenvalues, ascending, of the symmetric n x n matrix in the lower triangle of <paramref name="a"/>, without
    /// eigenvectors. Native: from n = 256 on, LAPACKE_dsyev_2stage with jobz = 'N' (a blocked reduction to band form,
    /// then band to tridiagonal; about 8% faster than one-stage dsytrd at n = 2048 here), otherwise or when it is not
    /// exported LAPACKE_dsyevd with jobz = 'N' (dsytrd + dsterf). <paramref name="a"/> is destroyed.
    /// </summary>
    public static void SymmetricEigenvalues(double[] a, int n, double[] eigenvalues, LinearAlgebraBackend backend = LinearAlgebraBackend.Auto)
    {
        CheckSquare(a, n, "SymmetricEigenvalues");
        if (eigenvalues.Length < n) throw new ArgumentException($"SymmetricEigenvalues: room for {n} eigenvalues needed");
        if (n == 0) return;
        if (Resolve(backend) == LinearAlgebraBackend.Native)
        {
            int info;
            var native = Native.Value!;
            bool twoStage = n >= 256 && native.Dsyev2Stage != null;
            fixed (double* pa = a, pw = eigenvalues)
                info = twoStage ? native.Dsyev2Stage(ColumnMajor, (byte)'N', Upper, n, pa, n, pw) : native.Dsyevd(ColumnMajor, (byte)'N', Upper, n, pa, n, pw);
            if (info != 0) throw new InvalidOperationException($"LAPACKE_{(twoStage ? "dsyev_2stage" : "dsyevd")} failed with info = {info} (n = {n}); the matrix may hold NaN or infinity");
            return;
        }
        ManagedLinearAlgebra.SymmetricEigenvalues(a, n, eigenvalues);
    }

    /// <summary>C (m x n) = op(A) op(B), row-major, op = transpose when asked. A is (m x k) or (k x m) when transposed.</summary>
    public static void Multiply(ReadOnlySpan<double> a, bool transposeA, ReadOnlySpan<double> b, bool transposeB, Span<double> c, int m, int n, int k, LinearAlgebraBackend backend = LinearAlgebraBackend.Auto)
    {
        if (a.Length < m * k || b.Length < k * n || c.Length < m * n) throw new ArgumentException($"Multiply: buffers too small for {m}x{k} * {k}x{n}");
        if (m == 0 || n == 0) return;
        if (k == 0) { c[..(m * n)].Clear(); return; }
        if (Resolve(backend) == LinearAlgebraBackend.Native)
        {
            fixed (double* pa = a, pb = b, pc = c)
                Native.Value!.Dgemm(RowMajor, transposeA ? Trans : NoTrans, transposeB ? Trans : NoTrans, m, n, k, 1.0,
                    pa, transposeA ? m : k, pb, transposeB ? k : n, 0.0, pc, n);
            return;
        }
        // Row-major data read as column-major is the transpose: (A B)^T = B^T A^T lets MathNet multiply without copies of intent.
        var ma = Matrix<double>.Build.Dense(transposeA ? m : k, transposeA ? k : m, a[..(m * k)].ToArray()); // = A^T as stored, or A when transposed
        var mb = Matrix<double>.Build.Dense(transposeB ? k : n, transposeB ? n : k, b[..(k * n)].ToArray());
        var opA = transposeA ? ma : ma.Transpose();   // m x k
        var opB = transposeB ? mb : mb.Transpose();   // k x n
        var prod = opA * opB;                        // m x n, column-major
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[i * n + j] = prod[i, j];
    }

    /// <summary>
    /// Sets OpenBLAS' thread count (openblas_set_num_threads) when the native path is loaded and exports it; returns
    /// whether it did. For benchmarks and hosts that run many computations side by side.
    /// </summary>
    public static bool TrySetNativeThreads(int threads)
    {
        if (Native.Value?.SetThreads is not { } set || threads < 1) return false;
        ((delegate* unmanaged<int, void>)set)(threads);
        return true;
    }

    private static void CheckSquare(double[] a, int n, string what)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (n < 0 || a.Length < (long)n * n) throw new ArgumentException($"{what}: the matrix buffer holds {a.Length} values, {n} x {n} needed");
    }

    private sealed class NativeKernels
    {
        public nint? SetThreads { get; init; }
        public string? Description { get; init; }
        public required delegate* unmanaged<int, byte, int, double*, int, int> Dpotrf;
        public required delegate* unmanaged<int, byte, int, double*, int, int*, int*, double, int> Dpstrf;
        public required delegate* unmanaged<int, int, byte, int, double*, int, double*, int, int> Dsygst;
        public required delegate* unmanaged<int, byte, byte, int, double*, int, double*, int> Dsyevd;
        public delegate* unmanaged<int, byte, byte, int, double*, int, double*, int> Dsyev2Stage;
        public required delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void> Dgemm;
    }

    private static string? Describe(nint blas)
    {
        string? Call(string export) =>
            NativeLibrary.TryGetExport(blas, export, out var f) ? Marshal.PtrToStringAnsi(((delegate* unmanaged<nint>)f)()) : null;
        var config = Call("openblas_get_config");
        var core = Call("openblas_get_corename");
        return config == null ? null : $"{config.Trim()} (core {core})";
    }

    private static NativeKernels? LoadNative()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) { NativeUnavailableReason = "only Linux/macOS library names are probed"; return null; }
        nint lapacke = 0, blas = 0;
        foreach (var name in new[] { "liblapacke.so.3", "liblapacke.so", "liblapacke.dylib" })
            if (NativeLibrary.TryLoad(name, out lapacke)) break;
        foreach (var name in new[] { "libopenblas.so.0", "libcblas.so.3", "libblas.so.3", "libopenblas.dylib" })
            if (NativeLibrary.TryLoad(name, out blas) && NativeLibrary.TryGetExport(blas, "cblas_dgemm", out _)) break;
        if (lapacke == 0) { NativeUnavailableReason = "liblapacke.so.3 not found"; return null; }
        if (blas == 0 || !NativeLibrary.TryGetExport(blas, "cblas_dgemm", out var gemm)) { NativeUnavailableReason = "no BLAS library with cblas_dgemm found"; return null; }
        var lapack = new Dictionary<string, nint>();
        foreach (var f in new[] { "LAPACKE_dpotrf", "LAPACKE_dpstrf", "LAPACKE_dsygst", "LAPACKE_dsyevd" })
        {
            if (!NativeLibrary.TryGetExport(lapacke, f, out var p)) { NativeUnavailableReason = $"{f} not exported by liblapacke"; return null; }
            lapack[f] = p;
        }
        return new NativeKernels
        {
            Dpotrf = (delegate* unmanaged<int, byte, int, double*, int, int>)lapack["LAPACKE_dpotrf"],
            Dpstrf = (delegate* unmanaged<int, byte, int, double*, int, int*, int*, double, int>)lapack["LAPACKE_dpstrf"],
            Dsygst = (delegate* unmanaged<int, int, byte, int, double*, int, double*, int, int>)lapack["LAPACKE_dsygst"],
            Dsyevd = (delegate* unmanaged<int, byte, byte, int, double*, int, double*, int>)lapack["LAPACKE_dsyevd"],
            Dgemm = (delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void>)gemm,
            Dsyev2Stage = NativeLibrary.TryGetExport(lapacke, "LAPACKE_dsyev_2stage", out var two) ? (delegate* unmanaged<int, byte, byte, int, double*, int, double*, int>)two : null,
            SetThreads = NativeLibrary.TryGetExport(blas, "openblas_set_num_threads", out var st) ? st : null,
            Description = Describe(blas),
        };
    }
}
