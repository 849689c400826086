namespace Pipeline.Inference.Schedulers;

/// <summary>Beta schedule families (diffusers names: linear, scaled_linear, squaredcos_cap_v2).</summary>
public enum BetaSchedule { Linear, ScaledLinear, SquaredCosCapV2 }

/// <summary>What the denoiser predicts (diffusers names: epsilon, v_prediction, sample).</summary>
public enum PredictionType { Epsilon, VPrediction, Sample }

/// <summary>How inference timesteps are spaced over the training range (diffusers names leading, trailing,
/// linspace; "ldm" is the spacing of the LDM/AnyDoor/Paint-by-Example samplers: make_ddim_timesteps(discr="uniform")
/// = range(0, T, T // S) + 1, ending on alpha_bar[0]; it can give more than S steps when S does not divide T).</summary>
public enum TimestepSpacing { Leading, Trailing, Linspace, Ldm }

/// <summary>DDPM posterior variance choice (Ho et al. 2020 §3.2): fixed_small = beta tilde, fixed_large = beta.</summary>
public enum VarianceType { FixedSmall, FixedLarge }

/// <summary>
/// Scheduler configuration as data (the shape of a diffusers scheduler_config.json; model.json's "schedule" and
/// "sampler" sections). Defaults are Stable Diffusion's (scaled_linear 0.00085 -> 0.012, T = 1000, epsilon).
/// Parse the snake_case names with <see cref="SchedulerNames"/>.
/// </summary>
public sealed record SchedulerConfig
{
    public int NumTrainTimesteps { get; init; } = 1000;
    public double BetaStart { get; init; } = 0.00085;
    public double BetaEnd { get; init; } = 0.012;
    public BetaSchedule BetaSchedule { get; init; } = BetaSchedule.ScaledLinear;
    public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;
    public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Leading;
    /// <summary>Added to every timestep of the leading spacing (SD uses 1); ignored by the other spacings.</summary>
    public int StepsOffset { get; init; }
    /// <summary>Whether the last step goes to alpha_bar = 1 (a clean sample) or to alpha_bar[0]. The ldm spacing
    /// always ends on alpha_bar[0], as LDM's samplers do.</summary>
    public bool SetAlphaToOne { get; init; } = true;
    /// <summary>DDIM eta (0 = deterministic, 1 = DDPM-like posterior variance).</summary>
    public double Eta { get; init; }
    public VarianceType VarianceType { get; init; } = VarianceType.FixedSmall;
    /// <summary>Clip the predicted x0 to [-ClipSampleRange, ClipSampleRange] (pixel models). Honoured by DDPM,
    /// DDIM, DPM-Solver++ and Euler, whose updates go through x0; PLMS ignores it, as LDM's PLMS does.</summary>
    public bool ClipSample { get; init; }
    public double ClipSampleRange { get; init; } = 1.0;
    /// <summary>DPM-Solver++: take the last step with first order when the loop has fewer than 15 steps
    /// (diffusers' lower_order_final; a last step to alpha_bar = 1 is always first order).</summary>
    public bool LowerOrderFinal { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (NumTrainTimesteps < 2)
            throw new ArgumentException($"SchedulerConfig.NumTrainTimesteps must be at least 2, got {NumTrainTimesteps}.");
        if (BetaSchedule != BetaSchedule.SquaredCosCapV2)
        {
            if (!(BetaStart > 0 && BetaStart < 1) || !(BetaEnd > 0 && BetaEnd < 1))
                throw new ArgumentException($"SchedulerConfig.BetaStart and BetaEnd must lie in (0, 1), got {BetaStart} and {BetaEnd}.");
        }
        if (StepsOffset < 0 || StepsOffset >= NumTrainTimesteps)
            throw new ArgumentException($"SchedulerConfig.StepsOffset must lie in [0, {NumTrainTimesteps - 1}], got {StepsOffset}.");
        if (!(Eta >= 0) || double.IsInfinity(Eta))
            throw new ArgumentException($"SchedulerConfig.Eta must be finite and >= 0, got {Eta}.");
        if (ClipSample && !(ClipSampleRange > 0))
            throw new ArgumentException($"SchedulerConfig.ClipSampleRange must be > 0 when ClipSample is on, got {ClipSampleRange}.");
        if (!Enum.IsDefined(BetaSchedule) || !Enum.IsDefined(PredictionType) || !Enum.IsDefined(TimestepSpacing) || !Enum.IsDefined(VarianceType))
            throw new ArgumentException("SchedulerConfig has an enum value outside its defined names.");
    }
}
