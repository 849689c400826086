using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Packages;

/// <summary>Latent space geometry of a latent model.</summary>
public sealed record LatentSpec(int Channels, int Downsample, double ScalingFactor);
