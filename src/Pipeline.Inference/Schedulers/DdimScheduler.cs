namespace Pipeline.Inference.Schedulers;

/// <summary>
/// Denoising diffusion implicit models (Song, Meng &amp; Ermon 2021). One step from t to the next loop timestep p:
/// <code>
///   x0  = predicted clean sample (Eq. 12 "predicted x0"; <see cref="PredictionCoefficients"/>)
///   eps = predicted noise
///   sigma_t(eta) = eta sqrt((1 - abar_p) / (1 - abar_t)) sqrt(1 - abar_t / abar_p)          (Eq. 16)
///   x_p = sqrt(abar_p) x0 + sqrt(1 - abar_p - sigma_t^2) eps + sigma_t z                     (Eq. 12)
/// </code>
/// eta = 0 is deterministic; eta = 1 equals DDPM's posterior with beta tilde. With the ldm spacing this is LDM's
/// DDIMSampler as AnyDoor/AnydoorMed run it (range(0, T, T // S) + 1, the last step to abar[0]).
/// Notation map: abar_t = Schedule.AlphaBar(t); abar_p = the next loop timestep's (or FinalAlphaCumprod).
/// </summary>
public sealed class DdimScheduler(SchedulerConfig config) : DiffusionScheduler(config)
{
    public override string Name => "ddim";

    public override bool NeedsNoise => Config.Eta > 0;

    protected override void StepCore(ReadOnlySpan<float> modelOutput, int stepIndex, ReadOnlySpan<float> sample, Span<float> previous, ReadOnlySpan<float> noise)
    {
        double abT = Schedule.AlphaBar(LoopTimesteps[stepIndex]);
        double abP = AlphaBarAfter(stepIndex);
        var c = PredictionCoefficients.For(Config.PredictionType, abT);
        double sigma = Config.Eta * Math.Sqrt((1.0 - abP) / (1.0 - abT)) * Math.Sqrt(1.0 - abT / abP);
        double x0Weight = Math.Sqrt(abP);
        double epsWeight = Math.Sqrt(Math.Max(1.0 - abP - sigma * sigma, 0.0));
        bool stochastic = sigma > 0;
        if (stochastic)
            CheckNoise(noise, sample.Length, stepIndex);
        for (int i = 0; i < sample.Length; i++)
        {
            double x = sample[i], o = modelOutput[i];
            double x0 = Clip(c.X0(x, o));
            double next = x0Weight * x0 + epsWeight * c.Eps(x, o);
            if (stochastic)
                next += sigma * noise[i];
            previous[i] = (float)next;
        }
    }
}
