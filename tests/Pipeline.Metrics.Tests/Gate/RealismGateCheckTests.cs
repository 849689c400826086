using Pipeline.Core.Contracts;
using Pipeline.Metrics.Gate;

namespace Pipeline.Metrics.Tests.Gate;

public sealed class RealismGateCheckTests
{
    [Fact]
    public void The_realism_gate_reads_the_learned_metric_keys()
    {
        var m = new Dictionary<string, double> { ["LPIPS[tiny-lpips]"] = 0.4, ["CLIP-I[tiny-embed]"] = 70, ["ssim.outside"] = 0.99 };
        // minEmbeddingSimilarity is a cosine (request schema: [-1, 1]); the reported similarity is 100 x cosine.
        Assert.Empty(RealismGateCheck.Evaluate(new RealismGate { MaxLpips = 0.5, MinEmbeddingSimilarity = 0.6, MinSsim = 0.9 }, m));
        var flags = RealismGateCheck.Evaluate(new RealismGate { MaxLpips = 0.3, MinEmbeddingSimilarity = 0.8 }, m);
        Assert.Equal(2, flags.Count);
        Assert.StartsWith("LPIPS[tiny-lpips] 0.4 > maxLpips 0.3", flags[0], StringComparison.Ordinal);
        Assert.StartsWith("CLIP-I[tiny-embed] 70 (cosine 0.7) < minEmbeddingSimilarity 0.8", flags[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Ssim_and_psnr_gates_read_the_values_outside_the_box()
    {
        var m = new Dictionary<string, double> { ["ssim"] = 0.5, ["ssim.outside"] = 0.95, ["psnr"] = 10, ["psnr.outside"] = 31 };
        Assert.Empty(RealismGateCheck.Evaluate(new RealismGate { MinSsim = 0.9, MinPsnr = 30 }, m));
        var flags = RealismGateCheck.Evaluate(new RealismGate { MinSsim = 0.96, MinPsnr = 32 }, m);
        Assert.Equal(["ssim.outside 0.95 < minSsim 0.96", "psnr.outside 31 < minPsnr 32"], flags);
        Assert.Empty(RealismGateCheck.Evaluate(null, m));
    }

    [Fact]
    public void Seam_and_texture_gates_read_the_model_values_not_the_baselines()
    {
        var m = new Dictionary<string, double> { ["seam"] = 0.7, ["copy&paste/seam"] = 1.9, ["texture"] = 0.9, ["untouched/texture"] = 0.1 };
        Assert.Empty(RealismGateCheck.Evaluate(new RealismGate { MaxSeam = 1.0, MaxTexture = 1.0 }, m));
        Assert.Equal(["seam 0.7 > maxSeam 0.5", "texture 0.9 > maxTexture 0.5"], RealismGateCheck.Evaluate(new RealismGate { MaxSeam = 0.5, MaxTexture = 0.5 }, m));
    }
}
