using Pipeline.Core.Contracts;
using Pipeline.Inference.Packages;

namespace Pipeline.Inference.Sampling;

/// <summary>A run's sampler settings: the request's values with the model package's defaults filled in.</summary>
public static class RunSamplingOptions
{
    public static SamplingOptions For(AugmentationRequest request, ModelPackage package) => new()
    {
        Scheduler = request.Sampler?.Scheduler?.ToString().ToLowerInvariant() ?? package.Sampler.Scheduler,
        Steps = request.Sampler?.Steps ?? package.Sampler.Steps,
        GuidanceScale = request.Sampler?.Guidance ?? package.Guidance.Scale,
        Eta = request.Sampler?.Eta ?? package.Sampler.Eta,
        Seed = (ulong)request.Seed,
    };
}
