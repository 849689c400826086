using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Packages;

/// <summary>What the denoiser's reference input receives.</summary>
public enum ReferenceInput { Image, Embedding }

/// <summary>The reference crop the model conditions on, and the unconditional (null) reference of CFG.</summary>
public sealed record ReferenceSpec(ReferenceInput Input, int Size, int Channels, string Null)
{
    /// <summary>True when the unconditional reference is all zeros; otherwise <see cref="Null"/> names a raw float32 LE file.</summary>
    public bool NullIsZeros => Null == "zeros";
}
