using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Packages;

/// <summary>How the model inpaints (docs/model-package.md "inpainting").</summary>
public enum InpaintingMode
{
    /// <summary>Mask and masked context are denoiser inputs (SD-inpainting's 9-channel style).</summary>
    Model,
    /// <summary>No mask input: the known region is re-noised to the current step and blended in each iteration.</summary>
    Blend,
}
