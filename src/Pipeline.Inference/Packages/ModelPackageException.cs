using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Packages;

/// <summary>A model package is invalid: names the package, the component (if any) and the problem.</summary>
public sealed class ModelPackageException(string package, string? component, string problem, Exception? inner = null)
    : Exception($"Model package '{package}'{(component is null ? "" : $", component '{component}'")}: {problem}.", inner)
{
    public string Package { get; } = package;
    public string? Component { get; } = component;
    public string Problem { get; } = problem;
}
