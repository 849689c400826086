using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Packages;

/// <summary>Default sampler settings of the package.</summary>
public sealed record SamplerDefaults(string Scheduler, int Steps, double Eta, TimestepSpacing TimestepSpacing, int StepsOffset, bool SetAlphaToOne);
