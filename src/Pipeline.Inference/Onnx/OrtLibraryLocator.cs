namespace Pipeline.Inference.Onnx;

/// <summary>
/// Finds the ONNX Runtime native library. Order: the configured path (<see cref="OrtRuntimeOptions.LibraryPath"/>),
/// the environment variable <c>PIPELINE_ORT_LIBRARY</c>, then the repository's npm copy
/// (<c>node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1</c>) found by walking up from
/// <see cref="AppContext.BaseDirectory"/>, from the current directory and from <c>PIPELINE_REPO_ROOT</c>.
/// </summary>
public static class OrtLibraryLocator
{
    public const string LibraryEnvironmentVariable = "PIPELINE_ORT_LIBRARY";
    public const string RepoRootEnvironmentVariable = "PIPELINE_REPO_ROOT";

    /// <summary>Path of the library inside a repository checkout (after <c>npm ci</c>).</summary>
    public static readonly string RepoRelativePath = Path.Combine("node_modules", "onnxruntime-node", "bin", "napi-v6", "linux", "x64", "libonnxruntime.so.1");

    /// <summary>
    /// The library to load: a configured path is taken as is (and must exist); otherwise the first candidate that
    /// exists. Throws <see cref="OrtLibraryException"/> listing every place searched when none is found.
    /// </summary>
    public static string Locate(string? configuredPath)
    {
        if (!string.IsNullOrWhiteSpace(configuredPath))
            return File.Exists(configuredPath) ? Path.GetFullPath(configuredPath)
                : throw new OrtLibraryException($"ONNX Runtime library '{configuredPath}' (configured in OrtRuntimeOptions.LibraryPath) does not exist.");
        var fromEnv = Environment.GetEnvironmentVariable(LibraryEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv))
            return File.Exists(fromEnv) ? Path.GetFullPath(fromEnv)
                : throw new OrtLibraryException($"ONNX Runtime library '{fromEnv}' (from {LibraryEnvironmentVariable}) does not exist.");
        var tried = new List<string>();
        foreach (var root in SearchRoots())
        {
            for (var dir = new DirectoryInfo(root); dir != null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, RepoRelativePath);
                if (File.Exists(candidate)) return candidate;
                tried.Add(candidate);
            }
        }
        throw new OrtLibraryException(
            $"ONNX Runtime library not found. Set {LibraryEnvironmentVariable} to libonnxruntime.so, or run 'npm ci' in the repository " +
            $"(ONNXRUNTIME_NODE_INSTALL=skip) so that {RepoRelativePath} exists. Searched: {string.Join(", ", tried.Distinct().Take(12))}{(tried.Count > 12 ? ", ..." : "")}");
    }

    private static IEnumerable<string> SearchRoots()
    {
        var repo = Environment.GetEnvironmentVariable(RepoRootEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(repo) && Directory.Exists(repo)) yield return repo;
        yield return AppContext.BaseDirectory;
        yield return Environment.CurrentDirectory;
    }
}
