using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Packages;

/// <summary>One ONNX file of the package with its role bindings (role -> graph name).</summary>
public sealed record ModelComponent(string Name, string File, string Sha256, IReadOnlyDictionary<string, string> Inputs, IReadOnlyDictionary<string, string> Outputs)
{
    /// <summary>The graph input bound to <paramref name="role"/>, or null when the model does not use the role.</summary>
    public string? Input(string role) => Inputs.TryGetValue(role, out var n) ? n : null;
}
