namespace Pipeline.Inference.Schedulers;

/// <summary>
/// DPM-Solver++(2M) of Lu et al. 2022 ("DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic
/// Models", Algorithm 2): a second-order multistep solver of the diffusion ODE in data (x0) prediction, in
/// half-log-SNR time lambda_t = log(alpha_t / sigma_t), alpha_t = sqrt(abar_t), sigma_t = sqrt(1 - abar_t).
/// Step i from t (sample x) to p, h_i = lambda_p - lambda_t, with x0_i the data prediction at t:
/// <code>
///   first step (and a lower-order final step): D = x0_i                    (DPM-Solver++1, = DDIM eta 0)
///   otherwise: r = h_{i-1} / h_i; D = (1 + 1 / (2 r)) x0_i - 1 / (2 r) x0_{i-1}
///   x_p = (sigma_p / sigma_t) x - alpha_p (exp(-h_i) - 1) D
/// </code>
/// A last step to abar = 1 (sigma_p = 0, lambda_p = +inf) is the limit x_p = x0_i. Deterministic.
/// </summary>
public sealed class DpmSolverMultistepScheduler(SchedulerConfig config) : DiffusionScheduler(config)
{
    private double[] _previousX0 = [];
    private double _previousH;
    private int _nextStep;

    public override string Name => "dpmpp2m";

    protected override void OnTimestepsSet()
    {
        _nextStep = 0;
        _previousH = double.NaN;
    }

    protected override void StepCore(ReadOnlySpan<float> modelOutput, int stepIndex, ReadOnlySpan<float> sample, Span<float> previous, ReadOnlySpan<float> noise)
    {
        if (stepIndex != _nextStep)
            throw new InvalidOperationException($"dpmpp2m: steps must be taken in order; expected step {_nextStep}, got {stepIndex}. Call SetTimesteps to start a new loop.");
        int n = sample.Length;
        if (stepIndex == 0)
        {
            if (_previousX0.Length != n)
                _previousX0 = new double[n];
        }
        else if (_previousX0.Length != n)
        {
            throw new ArgumentException($"dpmpp2m step {stepIndex}: the sample has {n} values but the loop started with {_previousX0.Length}.");
        }

        double abT = Schedule.AlphaBar(LoopTimesteps[stepIndex]);
        double abP = AlphaBarAfter(stepIndex);
        var c = PredictionCoefficients.For(Config.PredictionType, abT);
        double alphaT = Math.Sqrt(abT), sigmaT = Math.Sqrt(1.0 - abT);
        double alphaP = Math.Sqrt(abP), sigmaP = Math.Sqrt(1.0 - abP);
        bool last = stepIndex == LoopTimesteps.Length - 1;

        if (sigmaP == 0.0)
        {
            for (int i = 0; i < n; i++)
            {
                double x0 = Clip(c.X0(sample[i], modelOutput[i]));
                previous[i] = (float)x0;
                _previousX0[i] = x0;
            }
            _previousH = double.PositiveInfinity;
        }
        else
        {
            double h = (Math.Log(alphaP) - Math.Log(sigmaP)) - (Math.Log(alphaT) - Math.Log(sigmaT));
            bool firstOrder = stepIndex == 0 || (last && Config.LowerOrderFinal && LoopTimesteps.Length < 15);
            double xWeight = sigmaP / sigmaT;
            double dWeight = -alphaP * (Math.Exp(-h) - 1.0);
            double r = firstOrder ? 1.0 : _previousH / h;
            double w0 = firstOrder ? 1.0 : 1.0 + 1.0 / (2.0 * r);
            double w1 = firstOrder ? 0.0 : 1.0 / (2.0 * r);
            for (int i = 0; i < n; i++)
            {
                double x = sample[i];
                double x0 = Clip(c.X0(x, modelOutput[i]));
                double d = w0 * x0 - w1 * _previousX0[i];
                previous[i] = (float)(xWeight * x + dWeight * d);
                _previousX0[i] = x0;
            }
            _previousH = h;
        }
        _nextStep = stepIndex + 1;
    }
}
