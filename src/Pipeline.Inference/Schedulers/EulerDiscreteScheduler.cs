namespace Pipeline.Inference.Schedulers;

/// <summary>
/// Euler's method on the probability-flow ODE in the sigma parametrisation of Karras et al. 2022 ("Elucidating the
/// Design Space of Diffusion-Based Generative Models"): dx/dsigma = (x - D(x; sigma)) / sigma (Eq. 1 with
/// sigma(t) = t and Eq. 3's denoiser D), i.e. Algorithm 1 without its Heun correction, at the discrete training
/// timesteps (sigma_t = sqrt((1 - abar_t) / abar_t)). Samples live in the variance-exploding space
/// x = x_vp / sqrt(abar): the initial noise has std sqrt(sigma_max^2 + 1) and the model sees
/// x / sqrt(sigma^2 + 1) (<see cref="ScaleModelInput"/>), the VP sample it was trained on.
/// <code>
///   x0   = D(x; sigma_i), from the model output on the scaled input (abar = 1 / (sigma_i^2 + 1))
///   d    = (x - x0) / sigma_i
///   x_next = x + (sigma_next - sigma_i) d,   sigma after the last step = 0 when SetAlphaToOne
/// </code>
/// With epsilon prediction this is DDIM eta 0 written in the scaled space (Song et al. 2021 Eq. 14).
/// </summary>
public sealed class EulerDiscreteScheduler(SchedulerConfig config) : DiffusionScheduler(config)
{
    private double[] _sigmas = [];

    public override string Name => "euler";

    public override double InitNoiseSigma => HasTimesteps
        ? Math.Sqrt(_sigmas[0] * _sigmas[0] + 1.0)
        : throw new InvalidOperationException("euler: call SetTimesteps(numInferenceSteps) before reading InitNoiseSigma.");

    /// <summary>sigma of each loop timestep, followed by the final sigma (0, or sigma of abar[0]).</summary>
    public IReadOnlyList<double> Sigmas => _sigmas;

    protected override void OnTimestepsSet()
    {
        ReadOnlySpan<int> loop = LoopTimesteps;
        _sigmas = new double[loop.Length + 1];
        for (int i = 0; i < loop.Length; i++)
            _sigmas[i] = SigmaOf(Schedule.AlphaBar(loop[i]));
        _sigmas[^1] = SigmaOf(Schedule.FinalAlphaCumprod);
    }

    private static double SigmaOf(double alphaBar) => Math.Sqrt((1.0 - alphaBar) / alphaBar);

    public override void ScaleModelInput(Span<float> sample, int stepIndex)
    {
        CheckStepIndex(stepIndex);
        double scale = 1.0 / Math.Sqrt(_sigmas[stepIndex] * _sigmas[stepIndex] + 1.0);
        for (int i = 0; i < sample.Length; i++)
            sample[i] = (float)(sample[i] * scale);
    }

    public override void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, int timestep, Span<float> noisy)
    {
        CheckSameLength(original, noise, noisy);
        double sigma = SigmaOf(TrainingAlphaBar(timestep));
        for (int i = 0; i < original.Length; i++)
            noisy[i] = (float)(original[i] + sigma * noise[i]);
    }

    protected override void StepCore(ReadOnlySpan<float> modelOutput, int stepIndex, ReadOnlySpan<float> sample, Span<float> previous, ReadOnlySpan<float> noise)
    {
        double sigma = _sigmas[stepIndex], sigmaNext = _sigmas[stepIndex + 1];
        double scale = Math.Sqrt(sigma * sigma + 1.0);
        var c = PredictionCoefficients.For(Config.PredictionType, 1.0 / (scale * scale));
        double dt = sigmaNext - sigma;
        for (int i = 0; i < sample.Length; i++)
        {
            double x = sample[i];
            double x0 = Clip(c.X0(x / scale, modelOutput[i]));
            previous[i] = (float)(x + dt * (x - x0) / sigma);
        }
    }
}
