namespace Pipeline.Inference.Schedulers;

/// <summary>
/// A noise scheduler with the two verbs of diffusers' scheduler interface: set the inference timesteps, then step.
/// Tensors are flat float32 spans over a whole batch (N x C x H x W, row-major); arithmetic inside is float64 where it
/// matters. A scheduler never draws random numbers itself: stochastic steps (DDPM, DDIM with eta &gt; 0) take the
/// noise from the caller, who draws it per item from the counter-based RNG keyed by (run seed, item id, step), so an
/// item's output does not depend on batch size or order.
/// Multistep schedulers (PLMS, DPM-Solver++ 2M) keep history per instance: use one instance per batch and call
/// <see cref="SetTimesteps"/> again (which resets that history) before each new sampling loop.
/// </summary>
public interface IScheduler
{
    /// <summary>The configuration this scheduler was built from.</summary>
    SchedulerConfig Config { get; }

    /// <summary>Timesteps of the current sampling loop, in the order they are visited (decreasing).</summary>
    IReadOnlyList<int> Timesteps { get; }

    /// <summary>
    /// Number of denoiser evaluations the current loop makes (PLMS's warm-up makes it differ from Timesteps.Count
    /// in some formulations); equals Timesteps.Count for the others.
    /// </summary>
    int ModelEvaluations { get; }

    /// <summary>Standard deviation of the initial noise (1 for DDPM/DDIM/PLMS/DPM++, sigma_max-based for Euler).</summary>
    double InitNoiseSigma { get; }

    /// <summary>Verb 1: choose the timesteps for a loop of <paramref name="numInferenceSteps"/> steps and reset history.</summary>
    void SetTimesteps(int numInferenceSteps);

    /// <summary>Scales the denoiser input at timestep index <paramref name="stepIndex"/> in place (identity except for Euler).</summary>
    void ScaleModelInput(Span<float> sample, int stepIndex);

    /// <summary>
    /// Verb 2: from the model output at loop index <paramref name="stepIndex"/> (Timesteps[stepIndex]) and the current
    /// sample, write the sample of the next (less noisy) step into <paramref name="previous"/>.
    /// <paramref name="noise"/> is standard normal noise of the sample's length, required only when
    /// <see cref="NeedsNoise"/> is true; otherwise it may be empty.
    /// </summary>
    void Step(ReadOnlySpan<float> modelOutput, int stepIndex, ReadOnlySpan<float> sample, Span<float> previous, ReadOnlySpan<float> noise);

    /// <summary>True when <see cref="Step"/> consumes noise (DDPM; DDIM with eta &gt; 0).</summary>
    bool NeedsNoise { get; }

    /// <summary>
    /// Forward process q(x_t | x_0) at training timestep <paramref name="timestep"/>: sqrt(abar_t) x0 + sqrt(1 - abar_t) noise,
    /// used by known-region blending (RePaint-style inpainting) and by training-parity tests.
    /// </summary>
    void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, int timestep, Span<float> noisy);
}
