using System.Diagnostics;

namespace Pipeline.Bench;

/// <summary>The peer side of a side-by-side benchmark: a Python script (Debian's /usr/bin/python3, numpy/scipy/skimage)
/// run as a child process with a fixed number of BLAS/OpenMP threads; its stdout is the result.</summary>
internal static class PythonPeer
{
    public static async Task<string> RunAsync(string script, int threads, params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["OPENBLAS_NUM_THREADS"] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["OMP_NUM_THREADS"] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"python peer failed ({p.ExitCode}): {await stderr}");
        return await stdout;
    }
}
