namespace Pipeline.Inference.Schedulers;

/// <summary>
/// What the five schedulers share: the config and noise schedule, the loop's timesteps, argument checks, and the
/// variance-preserving forward process. Subclasses implement the step.
/// </summary>
public abstract class DiffusionScheduler : IScheduler
{
    private int[] _loopTimesteps = [];
    private int[] _evaluationTimesteps = [];

    protected DiffusionScheduler(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        Schedule = new NoiseSchedule(config);
    }

    public abstract string Name { get; }

    public SchedulerConfig Config { get; }

    public NoiseSchedule Schedule { get; }

    public IReadOnlyList<int> Timesteps => _evaluationTimesteps;

    public int ModelEvaluations => _evaluationTimesteps.Length;

    public virtual double InitNoiseSigma => 1.0;

    public virtual bool NeedsNoise => false;

    /// <summary>The loop's distinct timesteps t_0 &gt; t_1 &gt; ... (PLMS evaluates t_1 twice; the others once each).</summary>
    protected ReadOnlySpan<int> LoopTimesteps => _loopTimesteps;

    /// <summary>Whether <see cref="SetTimesteps"/> has run.</summary>
    protected bool HasTimesteps => _loopTimesteps.Length > 0;

    public void SetTimesteps(int numInferenceSteps)
    {
        _loopTimesteps = InferenceTimesteps.Compute(Config, numInferenceSteps);
        _evaluationTimesteps = EvaluationTimesteps(_loopTimesteps);
        OnTimestepsSet();
    }

    /// <summary>The evaluation order over the loop's timesteps (identity except PLMS).</summary>
    protected virtual int[] EvaluationTimesteps(int[] loopTimesteps) => loopTimesteps;

    /// <summary>Resets per-loop state (history) after new timesteps are set.</summary>
    protected virtual void OnTimestepsSet()
    {
    }

    /// <summary>alpha-bar of the loop timestep after index <paramref name="loopIndex"/> (the final one after the last).</summary>
    protected double AlphaBarAfter(int loopIndex) =>
        loopIndex + 1 < _loopTimesteps.Length ? Schedule.AlphaBar(_loopTimesteps[loopIndex + 1]) : Schedule.FinalAlphaCumprod;

    public virtual void ScaleModelInput(Span<float> sample, int stepIndex) => CheckStepIndex(stepIndex);

    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, ReadOnlySpan<float> sample, Span<float> previous, ReadOnlySpan<float> noise)
    {
        CheckStepIndex(stepIndex);
        if (modelOutput.Length != sample.Length || previous.Length != sample.Length)
            throw new ArgumentException(
                $"{Name} step {stepIndex}: model output ({modelOutput.Length}), sample ({sample.Length}) and previous ({previous.Length}) must have the same length.");
        if (sample.Length == 0)
            throw new ArgumentException($"{Name} step {stepIndex}: the sample is empty.");
        StepCore(modelOutput, stepIndex, sample, previous, noise);
    }

    protected abstract void StepCore(ReadOnlySpan<float> modelOutput, int stepIndex, ReadOnlySpan<float> sample, Span<float> previous, ReadOnlySpan<float> noise);

    public virtual void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, int timestep, Span<float> noisy)
    {
        CheckSameLength(original, noise, noisy);
        // Ho et al. 2020 Eq. 4: x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps
        double ab = TrainingAlphaBar(timestep);
        double a = Math.Sqrt(ab), s = Math.Sqrt(1.0 - ab);
        for (int i = 0; i < original.Length; i++)
            noisy[i] = (float)(a * original[i] + s * noise[i]);
    }

    protected double TrainingAlphaBar(int timestep)
    {
        if ((uint)timestep >= (uint)Config.NumTrainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(timestep), timestep, $"{Name}: the timestep must lie in [0, {Config.NumTrainTimesteps - 1}].");
        return Schedule.AlphaBar(timestep);
    }

    protected void CheckSameLength(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, Span<float> noisy)
    {
        if (noise.Length != original.Length || noisy.Length != original.Length)
            throw new ArgumentException($"{Name}.AddNoise: original ({original.Length}), noise ({noise.Length}) and output ({noisy.Length}) must have the same length.");
    }

    protected void CheckStepIndex(int stepIndex)
    {
        if (!HasTimesteps)
            throw new InvalidOperationException($"{Name}: call SetTimesteps(numInferenceSteps) before ScaleModelInput or Step.");
        if ((uint)stepIndex >= (uint)_evaluationTimesteps.Length)
            throw new ArgumentOutOfRangeException(nameof(stepIndex), stepIndex, $"{Name}: the step index must lie in [0, {_evaluationTimesteps.Length - 1}] (Timesteps.Count).");
    }

    protected void CheckNoise(ReadOnlySpan<float> noise, int length, int stepIndex)
    {
        if (noise.Length != length)
            throw new ArgumentException(
                $"{Name} step {stepIndex} is stochastic and needs standard normal noise of the sample's length ({length}); got {noise.Length} values.");
    }

    /// <summary>x0 clipped to +-ClipSampleRange when ClipSample is on.</summary>
    protected double Clip(double x0)
    {
        if (!Config.ClipSample)
            return x0;
        double r = Config.ClipSampleRange;
        return x0 < -r ? -r : x0 > r ? r : x0;
    }
}
