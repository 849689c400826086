using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Sampling;

/// <summary>
/// One item to inpaint, at the model's resolution and in its value range (docs/model-package.md), planar
/// channel-major (C x H x W). The sampler generates the region where <see cref="Mask"/> is 1 and returns the crop.
/// </summary>
/// <param name="ItemId">Stable id of the item: keys its noise (with the run seed), so its output does not depend on batching.</param>
/// <param name="Context">Target crop, imageChannels x resolution x resolution.</param>
/// <param name="Mask">1 inside the region to generate, 0 outside; resolution x resolution.</param>
/// <param name="Reference">Reference crop, reference.channels x reference.size x reference.size.</param>
/// <param name="DetailMap">High-frequency map (docs/preprocessing.md), imageChannels x resolution x resolution; required when the model binds 'detailMap'.</param>
/// <remarks>With several modalities (docs/model-package.md) the mask has one plane per modality and <paramref name="Box"/>
/// holds each modality's 8 box corners (modalities x 8 x 3); an all-zero box with an all-zero reference means "remove
/// the object". The unconditional branch of CFG gets the null reference and an all-zero box.</remarks>
public sealed record InpaintingItem(ulong ItemId, float[] Context, float[] Mask, float[] Reference, float[]? DetailMap = null, float[]? Box = null);

/// <summary>RePaint resampling (Lugmayr et al. 2022, §4.2): after every <see cref="JumpLength"/> steps, go back that
/// many steps by forward noising and redo them, <see cref="Resamplings"/> − 1 extra times (paper: j = 10, r = 10).</summary>
public sealed record RePaintOptions(int JumpLength = 10, int Resamplings = 10);

/// <summary>Progress of a sampling call: reported after every denoiser evaluation.</summary>
public sealed record SamplingProgress(int Batch, int BatchCount, int ItemsInBatch, int Iteration, int IterationsPerBatch);

/// <summary>Creates a fresh scheduler by name (ddim, plms, dpmpp2m, euler, ddpm) for one batch.</summary>
public delegate IScheduler CreateScheduler(string name, SchedulerConfig config);

/// <summary>Options of one sampling call; unset values come from the package's model.json.</summary>
public sealed record SamplingOptions
{
    /// <summary>Scheduler name; null: model.json sampler.scheduler.</summary>
    public string? Scheduler { get; init; }
    /// <summary>Inference steps; null: model.json sampler.steps.</summary>
    public int? Steps { get; init; }
    /// <summary>Classifier-free guidance scale w (ε = ε_uncond + w (ε_cond − ε_uncond); 1 = no guidance, one branch only); null: model.json.</summary>
    public double? GuidanceScale { get; init; }
    /// <summary>DDIM eta; null: model.json sampler.eta.</summary>
    public double? Eta { get; init; }
    /// <summary>Run seed: with the item id, it keys every noise draw (<see cref="Noise.NoiseStream"/>).</summary>
    public ulong Seed { get; init; }
    /// <summary>Items per denoiser call (each call evaluates 2x this many rows with guidance).</summary>
    public int MaxBatchSize { get; init; } = 8;
    /// <summary>RePaint resampling for known-region blending models; null: none.</summary>
    public RePaintOptions? RePaint { get; init; }
    /// <summary>Called after each denoiser evaluation.</summary>
    public IProgress<SamplingProgress>? Progress { get; init; }
}
