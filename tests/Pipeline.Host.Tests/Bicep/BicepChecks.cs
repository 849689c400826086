namespace Pipeline.Host.Tests.Bicep;

/// <summary>Checks across a set of Bicep files: each file's own references, and every module reference (path,
/// params passed, required params supplied, outputs read), and .bicepparam files against their template.</summary>
internal static class BicepChecks
{
    /// <param name="files">Files by full path; module paths resolve relative to the referencing file.</param>
    public static List<string> Problems(IReadOnlyDictionary<string, BicepFile> files)
    {
        var problems = new List<string>();
        foreach (var file in files.Values)
        {
            if (file.Path.EndsWith(".bicepparam", StringComparison.Ordinal))
            {
                problems.AddRange(ParamFileProblems(file, files));
                continue;
            }
            problems.AddRange(file.LocalProblems());
            foreach (var module in file.Modules.Values)
            {
                string target = Resolve(file.Path, module.RelativePath);
                if (!files.TryGetValue(target, out var callee))
                {
                    problems.Add($"{file.Path}:{module.Line}: module '{module.Name}' points to '{module.RelativePath}', which does not exist");
                    continue;
                }
                foreach (var (key, line) in module.ParamKeys)
                    if (!callee.Params.ContainsKey(key))
                        problems.Add($"{file.Path}:{line}: module '{module.Name}' passes '{key}', which {module.RelativePath} does not declare");
                foreach (var p in callee.Params.Values)
                    if (!p.HasDefault && !module.ParamKeys.ContainsKey(p.Name))
                        problems.Add($"{file.Path}:{module.Line}: module '{module.Name}' does not pass required param '{p.Name}' of {module.RelativePath}");
            }
            foreach (var (chain, line) in file.MemberChains)
            {
                if (chain.Length >= 3 && chain[1] == "outputs" && file.Modules.TryGetValue(chain[0], out var m)
                    && files.TryGetValue(Resolve(file.Path, m.RelativePath), out var callee) && !callee.Outputs.Contains(chain[2]))
                    problems.Add($"{file.Path}:{line}: module '{chain[0]}' has no output '{chain[2]}' ({m.RelativePath})");
                if (chain.Length >= 2 && chain[1] == "outputs" && !file.Modules.ContainsKey(chain[0]))
                    problems.Add($"{file.Path}:{line}: '{chain[0]}.outputs' read from something that is not a module");
            }
        }
        return problems;
    }

    private static IEnumerable<string> ParamFileProblems(BicepFile paramFile, IReadOnlyDictionary<string, BicepFile> files)
    {
        if (paramFile.Using is null)
        {
            yield return $"{paramFile.Path}: no 'using' line naming the template";
            yield break;
        }
        string target = Resolve(paramFile.Path, paramFile.Using);
        if (!files.TryGetValue(target, out var template))
        {
            yield return $"{paramFile.Path}: 'using {paramFile.Using}' names a file that does not exist";
            yield break;
        }
        foreach (var (name, line) in paramFile.Assigned)
            if (!template.Params.ContainsKey(name))
                yield return $"{paramFile.Path}:{line}: param '{name}' is not declared in {paramFile.Using}";
        foreach (var p in template.Params.Values)
            if (!p.HasDefault && !paramFile.Assigned.ContainsKey(p.Name))
                yield return $"{paramFile.Path}: required param '{p.Name}' of {paramFile.Using} is not set";
    }

    public static string Resolve(string fromFile, string relative) =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(fromFile)!, relative));

    public static Dictionary<string, BicepFile> LoadFolder(string folder) =>
        Directory.EnumerateFiles(folder, "*.bicep*", SearchOption.AllDirectories)
            .Where(p => p.EndsWith(".bicep", StringComparison.Ordinal) || p.EndsWith(".bicepparam", StringComparison.Ordinal))
            .ToDictionary(Path.GetFullPath, BicepFile.Load);
}
