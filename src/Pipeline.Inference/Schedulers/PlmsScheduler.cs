namespace Pipeline.Inference.Schedulers;

/// <summary>
/// Pseudo linear multi-step (PLMS) sampling of Liu et al. 2022 ("Pseudo Numerical Methods for Diffusion Models on
/// Manifolds", PNDM) as LDM's PLMSSampler runs it for LDM and Paint-by-Example (no Runge-Kutta warm-up):
/// <code>
///   phi(x_t, e, t, p) = sqrt(abar_p) (x_t - sqrt(1 - abar_t) e) / sqrt(abar_t) + sqrt(1 - abar_p) e   (Eq. 9, the
///                        transfer part; the DDIM eta = 0 step)
///   step 1 (two evaluations, pseudo improved Euler): e_0 = eps(x_0, t_0); x' = phi(x_0, e_0, t_0, t_1);
///          e' = eps(x', t_1); x_1 = phi(x_0, (e_0 + e') / 2, t_0, t_1)
///   step 2: e = (3 e_1 - e_0) / 2                          (Adams-Bashforth 2)
///   step 3: e = (23 e_2 - 16 e_1 + 5 e_0) / 12             (Adams-Bashforth 3)
///   then:   e = (55 e_k - 59 e_k-1 + 37 e_k-2 - 9 e_k-3) / 24   (Eq. 12, Adams-Bashforth 4)
///   x_k+1 = phi(x_k, e, t_k, t_k+1)
/// </code>
/// e_k are the noise predictions at the loop's samples (the provisional e' is not kept). <see cref="IScheduler.Timesteps"/>
/// lists one entry per evaluation, [t_0, t_1, t_1, t_2, ...], so Step(0) returns the provisional sample x' to be
/// evaluated at Timesteps[1], and Step(1) returns x_1. A one-step loop is a single phi step.
/// Model outputs of any prediction type are converted to epsilon first.
/// </summary>
public sealed class PlmsScheduler(SchedulerConfig config) : DiffusionScheduler(config)
{
    // Buffers of the current loop, sized at step 0 and reused: no allocation per step after the first.
    private double[] _start = [];
    private double[] _firstEps = [];
    private double[] _eps = [];
    private double[] _combined = [];
    private readonly double[]?[] _history = new double[3][];
    private int _historyCount;
    private int _nextStep;

    public override string Name => "plms";

    protected override int[] EvaluationTimesteps(int[] loop)
    {
        if (loop.Length < 2)
            return loop;
        var evals = new int[loop.Length + 1];
        evals[0] = loop[0];
        loop.AsSpan(1).CopyTo(evals.AsSpan(2));
        evals[1] = loop[1];
        return evals;
    }

    protected override void OnTimestepsSet()
    {
        _historyCount = 0;
        _nextStep = 0;
    }

    protected override void StepCore(ReadOnlySpan<float> modelOutput, int stepIndex, ReadOnlySpan<float> sample, Span<float> previous, ReadOnlySpan<float> noise)
    {
        if (stepIndex != _nextStep)
            throw new InvalidOperationException($"plms: steps must be taken in order; expected step {_nextStep}, got {stepIndex}. Call SetTimesteps to start a new loop.");
        int n = sample.Length;
        if (stepIndex == 0)
            EnsureBuffers(n);
        else
            CheckLength(n, stepIndex);
        ReadOnlySpan<int> loop = LoopTimesteps;
        var c = PredictionCoefficients.For(Config.PredictionType, Schedule.AlphaBar(Timesteps[stepIndex]));

        if (loop.Length == 1)
        {
            ToEpsilon(c, modelOutput, sample, _eps);
            Phi(sample, _eps, loop[0], -1, previous);
        }
        else if (stepIndex == 0)
        {
            for (int i = 0; i < n; i++)
                _start[i] = sample[i];
            ToEpsilon(c, modelOutput, sample, _firstEps);
            Phi(sample, _firstEps, loop[0], loop[1], previous);
        }
        else if (stepIndex == 1)
        {
            // pseudo improved Euler: average the slopes at both ends, restart from x_0
            ToEpsilon(c, modelOutput, sample, _eps);
            for (int i = 0; i < n; i++)
                _combined[i] = 0.5 * (_firstEps[i] + _eps[i]);
            PhiFrom(_start, _combined, loop[0], loop[1], previous);
            Push(_firstEps);
        }
        else
        {
            int k = stepIndex - 1;
            int p = k + 1 < loop.Length ? loop[k + 1] : -1;
            ToEpsilon(c, modelOutput, sample, _eps);
            Combine(_eps, _combined);
            Phi(sample, _combined, loop[k], p, previous);
            Push(_eps);
        }
        _nextStep = stepIndex + 1;
    }

    private void Combine(ReadOnlySpan<double> eps, Span<double> combined)
    {
        // _history[0] is the newest of the previous predictions
        ReadOnlySpan<double> h1 = _history[0], h2 = _history[1], h3 = _history[2];
        switch (_historyCount)
        {
            case 1:
                for (int i = 0; i < eps.Length; i++)
                    combined[i] = (3 * eps[i] - h1[i]) / 2;
                break;
            case 2:
                for (int i = 0; i < eps.Length; i++)
                    combined[i] = (23 * eps[i] - 16 * h1[i] + 5 * h2[i]) / 12;
                break;
            default:
                for (int i = 0; i < eps.Length; i++)
                    combined[i] = (55 * eps[i] - 59 * h1[i] + 37 * h2[i] - 9 * h3[i]) / 24;
                break;
        }
    }

    /// <summary>Copies <paramref name="eps"/> in as the newest prediction, recycling the oldest buffer.</summary>
    private void Push(double[] eps)
    {
        double[] slot = _historyCount == 3 ? _history[2]! : new double[eps.Length];
        eps.CopyTo(slot, 0);
        _history[2] = _history[1];
        _history[1] = _history[0];
        _history[0] = slot;
        _historyCount = Math.Min(_historyCount + 1, 3);
    }

    private void EnsureBuffers(int n)
    {
        if (_start.Length != n)
        {
            _start = new double[n];
            _firstEps = new double[n];
            _eps = new double[n];
            _combined = new double[n];
        }
        Array.Clear(_history);
        _historyCount = 0;
    }

    private void CheckLength(int n, int stepIndex)
    {
        if (_start.Length != n)
            throw new ArgumentException($"plms step {stepIndex}: the sample has {n} values but the loop started with {_start.Length}.");
    }

    private static void ToEpsilon(PredictionCoefficients c, ReadOnlySpan<float> output, ReadOnlySpan<float> sample, Span<double> eps)
    {
        for (int i = 0; i < eps.Length; i++)
            eps[i] = c.Eps(sample[i], output[i]);
    }

    private void Phi(ReadOnlySpan<float> x, ReadOnlySpan<double> eps, int t, int p, Span<float> output)
    {
        (double a, double b) = PhiWeights(t, p);
        for (int i = 0; i < x.Length; i++)
            output[i] = (float)(a * x[i] + b * eps[i]);
    }

    private void PhiFrom(ReadOnlySpan<double> x, ReadOnlySpan<double> eps, int t, int p, Span<float> output)
    {
        (double a, double b) = PhiWeights(t, p);
        for (int i = 0; i < x.Length; i++)
            output[i] = (float)(a * x[i] + b * eps[i]);
    }

    /// <summary>phi as x_p = A x_t + B e: A = sqrt(abar_p / abar_t), B = sqrt(1 - abar_p) - sqrt(abar_p (1 - abar_t) / abar_t).</summary>
    private (double A, double B) PhiWeights(int t, int p)
    {
        double abT = Schedule.AlphaBar(t), abP = Schedule.AlphaBar(p);
        double ratio = Math.Sqrt(abP) / Math.Sqrt(abT);
        return (ratio, Math.Sqrt(1.0 - abP) - ratio * Math.Sqrt(1.0 - abT));
    }
}
