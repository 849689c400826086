using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Packages;

/// <summary>Pixel-space or latent-space diffusion.</summary>
public enum ModelKind { Pixel, Latent }
