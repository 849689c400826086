namespace Pipeline.Inference.Schedulers;

/// <summary>
/// Denoising diffusion probabilistic models (Ho, Jain &amp; Abbeel 2020), Algorithm 2, over a (possibly strided)
/// subsequence of timesteps. One step from t to the next loop timestep p, with the jump's effective
/// alpha_t = abar_t / abar_p and beta_t = 1 - alpha_t (the single-step values when p = t - 1):
/// <code>
///   x0   = predicted clean sample (Eq. 15), clipped when ClipSample
///   mean = sqrt(abar_p) beta_t / (1 - abar_t) x0 + sqrt(alpha_t) (1 - abar_p) / (1 - abar_t) x_t   (Eq. 7, mu tilde)
///   var  = fixed_small: beta tilde = (1 - abar_p) / (1 - abar_t) beta_t (Eq. 7); fixed_large: beta_t (§3.2)
///   x_p  = mean + sqrt(var) z, with z = 0 at the loop's last step
/// </code>
/// </summary>
public sealed class DdpmScheduler(SchedulerConfig config) : DiffusionScheduler(config)
{
    public override string Name => "ddpm";

    public override bool NeedsNoise => true;

    protected override void StepCore(ReadOnlySpan<float> modelOutput, int stepIndex, ReadOnlySpan<float> sample, Span<float> previous, ReadOnlySpan<float> noise)
    {
        double abT = Schedule.AlphaBar(LoopTimesteps[stepIndex]);
        double abP = AlphaBarAfter(stepIndex);
        double alpha = abT / abP;
        double beta = 1.0 - alpha;
        var c = PredictionCoefficients.For(Config.PredictionType, abT);
        double x0Weight = Math.Sqrt(abP) * beta / (1.0 - abT);
        double xWeight = Math.Sqrt(alpha) * (1.0 - abP) / (1.0 - abT);
        bool last = stepIndex == LoopTimesteps.Length - 1;
        double std = 0;
        if (!last)
        {
            double variance = Config.VarianceType == VarianceType.FixedSmall
                ? Math.Max((1.0 - abP) / (1.0 - abT) * beta, 1e-20)
                : beta;
            std = Math.Sqrt(variance);
            CheckNoise(noise, sample.Length, stepIndex);
        }
        for (int i = 0; i < sample.Length; i++)
        {
            double x = sample[i];
            double x0 = Clip(c.X0(x, modelOutput[i]));
            double next = x0Weight * x0 + xWeight * x;
            if (!last)
                next += std * noise[i];
            previous[i] = (float)next;
        }
    }
}
