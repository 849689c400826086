using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Packages;

/// <summary>Default guidance of the package.</summary>
public sealed record GuidanceDefaults(double Scale, double ReferenceDropout);
