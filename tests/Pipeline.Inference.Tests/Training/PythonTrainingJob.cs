using System.Diagnostics;
using System.Text;

namespace Pipeline.Inference.Tests.Training;

/// <summary>
/// Runs the training job's Python entry points (Debian /usr/bin/python3 with python3-torch, installed by
/// infra/setup.sh) from the repository checkout, with a time limit so a stuck job fails the test instead of hanging it.
/// </summary>
internal static class PythonTrainingJob
{
    public const string Python = "/usr/bin/python3";

    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "training", "train.py")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException(
            $"training/train.py not found above '{AppContext.BaseDirectory}'; the tests run from the repository checkout");
    }

    public sealed record Result(int ExitCode, string Output);

    public static Result Run(TimeSpan timeout, params string[] args) => Run(timeout, new Dictionary<string, string>(), args);

    /// <summary>Runs with extra environment variables (e.g. TRAINING_TEST_DATA for the Python suite).</summary>
    public static Result Run(TimeSpan timeout, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo(Python)
        {
            WorkingDirectory = RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        // one intra-op thread: the job's default (--threads 1); on a shared, oversubscribed CPU more threads spin at
        // OpenMP barriers and get slower, not faster
        psi.Environment["OMP_NUM_THREADS"] = "1";
        psi.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        foreach (var (k, v) in environment)
        {
            psi.Environment[k] = v;
        }

        var output = new StringBuilder();
        using var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            throw new TimeoutException($"'{Python} {string.Join(' ', args)}' did not finish in {timeout}:\n{output}");
        }

        p.WaitForExit(); // flushes the async output readers
        lock (output)
        {
            return new Result(p.ExitCode, output.ToString());
        }
    }
}
