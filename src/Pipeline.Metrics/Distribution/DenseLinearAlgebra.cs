using System.Runtime.InteropServices;
using MathNet.Numerics.LinearAlgebra;

namespace Pipeline.Metrics.Distribution;

/// <summary>Which implementation runs the dense float64 linear algebra of the distribution metrics.</summary>
public enum LinearAlgebraBackend
{
    /// <summary>LAPACK/BLAS when the native libraries load, otherwise managed.</summary>
    Auto,
    /// <summary>LAPACKE_dsyevd from liblapacke.so.3 and cblas_dgemm from OpenBLAS (Debian liblapacke, libopenblas0-pthread); fails if absent.</summary>
    Native,
    /// <summary>MathNet.Numerics' managed code: always available, correct, several times slower at d = 2048.</summary>
    Managed,
}

/// <summary>
/// The two dense kernels the Fréchet distance and KID need: the symmetric eigendecomposition and the matrix product,
/// on row-major float64 arrays. The native path binds LAPACKE/CBLAS through function pointers resolved with
/// <see cref="NativeLibrary"/> (no DllImport resolver needed); the managed path is MathNet.Numerics.
/// </summary>
public static unsafe class DenseLinearAlgebra
{
    private const int RowMajor = 101;   // LAPACK_ROW_MAJOR / CblasRowMajor
    private const int NoTrans = 111, Trans = 112;

    private static readonly Lazy<NativeKernels?> Native = new(LoadNative);

    /// <summary>True when LAPACK and BLAS were found (the reason otherwise in <see cref="NativeUnavailableReason"/>).</summary>
    public static bool NativeAvailable => Native.Value is not null;

    public static string? NativeUnavailableReason { get; private set; }

    /// <summary>The backend <paramref name="requested"/> resolves to on this machine.</summary>
    public static LinearAlgebraBackend Resolve(LinearAlgebraBackend requested) => requested switch
    {
        LinearAlgebraBackend.Auto => NativeAvailable ? LinearAlgebraBackend.Native : LinearAlgebraBackend.Managed,
        LinearAlgebraBackend.Native when !NativeAvailable => throw new InvalidOperationException(
            $"native LAPACK/BLAS is not available ({NativeUnavailableReason}); install Debian's liblapacke and libopenblas0-pthread or use LinearAlgebraBackend.Managed"),
        _ => requested,
    };

    /// <summary>
    /// Eigenvalues (ascending, into <paramref name="eigenvalues"/>) of the symmetric n x n matrix <paramref name="a"/>
    /// (row-major; only its upper triangle is read). With <paramref name="vectors"/>, <paramref name="a"/> is overwritten
    /// by the eigenvectors as columns (a[i*n + k] = component i of eigenvector k); otherwise its content is destroyed.
    /// </summary>
    public static void SymmetricEigen(double[] a, int n, double[] eigenvalues, bool vectors, LinearAlgebraBackend backend = LinearAlgebraBackend.Auto)
    {
        if (a.Length < n * n || eigenvalues.Length < n) throw new ArgumentException($"SymmetricEigen: buffers too small for n = {n}");
        if (Resolve(backend) == LinearAlgebraBackend.Native)
        {
            int info;
            fixed (double* pa = a, pw = eigenvalues)
                info = Native.Value!.Dsyevd(RowMajor, (byte)(vectors ? 'V' : 'N'), (byte)'U', n, pa, n, pw);
            if (info != 0) throw new InvalidOperationException($"LAPACKE_dsyevd failed with info = {info} (n = {n}); the matrix may hold NaN or infinity");
            return;
        }
        // MathNet stores column-major; the transpose of a symmetric matrix is itself, so reading rows as columns is fine.
        var m = Matrix<double>.Build.Dense(n, n, a.AsSpan(0, n * n).ToArray());
        var evd = m.Evd(Symmetricity.Symmetric);
        var values = evd.EigenValues;
        for (int i = 0; i < n; i++) eigenvalues[i] = values[i].Real;
        if (vectors)
        {
            var v = evd.EigenVectors; // columns are eigenvectors, ascending like LAPACK
            for (int i = 0; i < n; i++)
                for (int k = 0; k < n; k++) a[i * n + k] = v[i, k];
        }
    }

    /// <summary>C (m x n) = op(A) op(B), row-major, op = transpose when asked. A is (m x k) or (k x m) when transposed.</summary>
    public static void Multiply(ReadOnlySpan<double> a, bool transposeA, ReadOnlySpan<double> b, bool transposeB, Span<double> c, int m, int n, int k, LinearAlgebraBackend backend = LinearAlgebraBackend.Auto)
    {
        if (a.Length < m * k || b.Length < k * n || c.Length < m * n) throw new ArgumentException($"Multiply: buffers too small for {m}x{k} * {k}x{n}");
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

    private sealed class NativeKernels
    {
        public nint? SetThreads { get; init; }
        public required delegate* unmanaged<int, byte, byte, int, double*, int, double*, int> Dsyevd;
        public required delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void> Dgemm;
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
        if (!NativeLibrary.TryGetExport(lapacke, "LAPACKE_dsyevd", out var syevd)) { NativeUnavailableReason = "LAPACKE_dsyevd not exported"; return null; }
        return new NativeKernels
        {
            Dsyevd = (delegate* unmanaged<int, byte, byte, int, double*, int, double*, int>)syevd,
            Dgemm = (delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void>)gemm,
            SetThreads = NativeLibrary.TryGetExport(blas, "openblas_set_num_threads", out var st) ? st : null,
        };
    }
}
