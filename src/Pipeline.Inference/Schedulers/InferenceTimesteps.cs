namespace Pipeline.Inference.Schedulers;

/// <summary>The decreasing integer timesteps a loop of S steps visits, per <see cref="TimestepSpacing"/>.</summary>
/// <remarks>
/// With T = NumTrainTimesteps (the spacings of diffusers' "Common Diffusion Noise Schedules and Sample Steps are
/// Flawed", Lin et al. 2024, Table 2, and of LDM's make_ddim_timesteps):
/// leading  = k * (T // S) + StepsOffset, k = 0..S-1;
/// trailing = round(T - k T / S) - 1, k = 0..S-1;
/// linspace = round(linspace(0, T - 1, S));
/// ldm      = range(0, T, T // S) + 1 (more than S entries when S does not divide T, as in LDM).
/// Rounding is half-to-even, as numpy's. Each step goes from one entry to the next; the last one to the final
/// alpha-bar (<see cref="NoiseSchedule.FinalAlphaCumprod"/>). Unlike diffusers' DDIM, which steps to t - T // S
/// whatever the spacing, the previous timestep is always the next entry of the list.
/// </remarks>
public static class InferenceTimesteps
{
    public static int[] Compute(SchedulerConfig config, int numInferenceSteps)
    {
        ArgumentNullException.ThrowIfNull(config);
        int T = config.NumTrainTimesteps;
        int S = numInferenceSteps;
        if (S < 1 || S > T)
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), S, $"The number of inference steps must lie in [1, {T}] (NumTrainTimesteps).");
        int[] ts;
        switch (config.TimestepSpacing)
        {
            case TimestepSpacing.Leading:
            {
                int ratio = T / S;
                ts = new int[S];
                for (int k = 0; k < S; k++)
                    ts[S - 1 - k] = k * ratio + config.StepsOffset;
                break;
            }
            case TimestepSpacing.Trailing:
            {
                double step = -(double)T / S;
                ts = new int[S];
                for (int k = 0; k < S; k++)
                    ts[k] = (int)Math.Round(T + k * step, MidpointRounding.ToEven) - 1;
                break;
            }
            case TimestepSpacing.Linspace:
            {
                double[] l = NoiseSchedule.Linspace(0.0, T - 1.0, S);
                ts = new int[S];
                for (int k = 0; k < S; k++)
                    ts[S - 1 - k] = (int)Math.Round(l[k], MidpointRounding.ToEven);
                break;
            }
            case TimestepSpacing.Ldm:
            {
                int c = T / S;
                int count = (T + c - 1) / c;
                ts = new int[count];
                for (int k = 0; k < count; k++)
                    ts[count - 1 - k] = k * c + 1;
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(config), config.TimestepSpacing, "Unknown timestep spacing.");
        }
        for (int i = 0; i < ts.Length; i++)
        {
            if (ts[i] < 0 || ts[i] >= T || (i > 0 && ts[i] >= ts[i - 1]))
                throw new ArgumentException(
                    $"Timestep spacing {SchedulerNames.ToName(config.TimestepSpacing)} with {S} steps (offset {config.StepsOffset}) gives timesteps outside [0, {T - 1}] or not decreasing: " +
                    $"[{string.Join(", ", ts)}]. Use fewer steps or a smaller StepsOffset.");
        }
        return ts;
    }
}
