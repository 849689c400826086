namespace Pipeline.Inference.Schedulers;

/// <summary>Beta schedule families (diffusers names).</summary>
public enum BetaSchedule { Linear, ScaledLinear, SquaredCosCapV2 }

/// <summary>What the denoiser predicts.</summary>
public enum PredictionType { Epsilon, VPrediction, Sample }

/// <summary>How inference timesteps are spaced over the training range (diffusers names; "ldm" is the
/// spacing of the LDM/AnyDoor DDIM sampler: make_ddim_timesteps(discr="uniform") = arange(0, T, T/S) + 1).</summary>
public enum TimestepSpacing { Leading, Trailing, Linspace, Ldm }

/// <summary>DDPM posterior variance choice (Ho et al. 2020 §3.2).</summary>
public enum VarianceType { FixedSmall, FixedLarge }

/// <summary>Scheduler configuration as data (the shape of a diffusers scheduler_config.json), read from model.json.</summary>
public sealed record SchedulerConfig
{
    public int NumTrainTimesteps { get; init; } = 1000;
    public double BetaStart { get; init; } = 0.00085;
    public double BetaEnd { get; init; } = 0.012;
    public BetaSchedule BetaSchedule { get; init; } = BetaSchedule.ScaledLinear;
    public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;
    public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Leading;
    public int StepsOffset { get; init; }
    public bool SetAlphaToOne { get; init; } = true;
    /// <summary>DDIM eta (0 = deterministic).</summary>
    public double Eta { get; init; }
    public VarianceType VarianceType { get; init; } = VarianceType.FixedSmall;
    /// <summary>Clip the predicted x0 to [-ClipSampleRange, ClipSampleRange] (pixel models).</summary>
    public bool ClipSample { get; init; }
    public double ClipSampleRange { get; init; } = 1.0;
}
