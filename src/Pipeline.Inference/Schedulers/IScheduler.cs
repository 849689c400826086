namespace Pipeline.Inference.Schedulers;

/// <summary>
/// A noise scheduler with the two verbs of diffusers' scheduler interface: set the inference timesteps, then step.
/// Tensors are flat float32 spans over a whole batch (N x C x H x W, row-major); every scheduler works element-wise,
/// so the batch layout does not matter to it. Arithmetic inside is float64.
/// A scheduler never draws random numbers itself: stochastic steps (DDPM, DDIM with eta &gt; 0) take the noise from
/// the caller, who draws it per item from the counter-based RNG keyed by (run seed, item id, step), so an item's
/// output does not depend on batch size or order.
/// Multistep schedulers (PLMS, DPM-Solver++ 2M) keep history per instance: use one instance per batch and call
/// <see cref="SetTimesteps"/> again (which resets that history) before each new sampling loop.
/// </summary>
/// <remarks>
/// The loop every scheduler is driven by (see docs/schedulers.md):
/// <code>
/// scheduler.SetTimesteps(steps);
/// x = noise * scheduler.InitNoiseSigma;
/// for (i = 0; i &lt; scheduler.Timesteps.Count; i++) {
///     input = copy of x; scheduler.ScaleModelInput(input, i);
///     output = model(input, scheduler.Timesteps[i]);          // CFG combines here
///     scheduler.Step(output, i, x, x, noiseFor(i));           // previous may alias sample
/// }
/// </code>
/// </remarks>
public interface IScheduler
{
    /// <summary>The factory name: ddim, ddpm, plms, dpmpp2m or euler.</summary>
    string Name { get; }

    /// <summary>The configuration this scheduler was built from.</summary>
    SchedulerConfig Config { get; }

    /// <summary>The training noise schedule (betas and alpha-bar table) the steps are computed from.</summary>
    NoiseSchedule Schedule { get; }

    /// <summary>
    /// Timesteps of the current sampling loop, one per denoiser evaluation, in the order they are visited. They
    /// decrease, except that PLMS repeats its second timestep (its first step takes two evaluations).
    /// </summary>
    IReadOnlyList<int> Timesteps { get; }

    /// <summary>Number of denoiser evaluations of the current loop; always equals <c>Timesteps.Count</c>.</summary>
    int ModelEvaluations { get; }

    /// <summary>
    /// Standard deviation of the initial noise: 1 for the variance-preserving samplers (DDPM, DDIM, PLMS, DPM++),
    /// sqrt(sigma_max^2 + 1) for Euler, whose samples live in the sigma (variance-exploding) space.
    /// </summary>
    double InitNoiseSigma { get; }

    /// <summary>True when <see cref="Step"/> consumes noise (DDPM; DDIM with eta &gt; 0).</summary>
    bool NeedsNoise { get; }

    /// <summary>Verb 1: choose the timesteps for a loop of <paramref name="numInferenceSteps"/> steps and reset history.</summary>
    void SetTimesteps(int numInferenceSteps);

    /// <summary>
    /// Scales a copy of the sample into the denoiser's input space at loop index <paramref name="stepIndex"/>, in
    /// place: identity except for Euler (x / sqrt(sigma^2 + 1)). Call it on a copy, never on the sample you step.
    /// </summary>
    void ScaleModelInput(Span<float> sample, int stepIndex);

    /// <summary>
    /// Verb 2: from the model output at loop index <paramref name="stepIndex"/> (made at <c>Timesteps[stepIndex]</c>)
    /// and the current sample, write the next sample into <paramref name="previous"/> (which may be the same memory
    /// as <paramref name="sample"/>). Steps of multistep schedulers must be taken in order 0, 1, 2, ...
    /// <paramref name="noise"/> is standard normal noise of the sample's length; it is read only when the step is
    /// stochastic (<see cref="NeedsNoise"/>; DDPM's last step is not) and may be empty otherwise.
    /// </summary>
    void Step(ReadOnlySpan<float> modelOutput, int stepIndex, ReadOnlySpan<float> sample, Span<float> previous, ReadOnlySpan<float> noise);

    /// <summary>
    /// The forward process at training timestep <paramref name="timestep"/>, in this scheduler's sample space:
    /// sqrt(abar_t) x0 + sqrt(1 - abar_t) noise (Ho et al. 2020 Eq. 4); for Euler x0 + sigma_t noise. Used by
    /// known-region blending (RePaint-style inpainting) and by training-parity tests.
    /// </summary>
    void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, int timestep, Span<float> noisy);
}
