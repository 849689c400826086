using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Tests.Sampling;

/// <summary>
/// TEMPORARY test-only DDIM (eta 0/any, epsilon prediction, leading spacing) used until the sched engineer's
/// DdimScheduler is merged into main; delete it then.
/// </summary>
internal sealed class MinimalDdim : IScheduler
{
    private readonly double[] _abar;
    private int[] _timesteps = [];

    public MinimalDdim(SchedulerConfig config)
    {
        Config = config;
        _abar = new double[config.NumTrainTimesteps];
        double prod = 1;
        for (var i = 0; i < _abar.Length; i++)
        {
            var sb = Math.Sqrt(config.BetaStart) + i * (Math.Sqrt(config.BetaEnd) - Math.Sqrt(config.BetaStart)) / (_abar.Length - 1);
            var beta = config.BetaSchedule == BetaSchedule.ScaledLinear ? sb * sb : config.BetaStart + i * (config.BetaEnd - config.BetaStart) / (_abar.Length - 1);
            prod *= 1 - beta;
            _abar[i] = prod;
        }
    }

    public SchedulerConfig Config { get; }
    public IReadOnlyList<int> Timesteps => _timesteps;
    public int ModelEvaluations => _timesteps.Length;
    public double InitNoiseSigma => 1;
    public bool NeedsNoise => Config.Eta > 0;

    public void SetTimesteps(int n)
    {
        var ratio = Config.NumTrainTimesteps / n;
        _timesteps = Enumerable.Range(0, n).Select(i => i * ratio + Config.StepsOffset).Reverse().ToArray();
    }

    public void ScaleModelInput(Span<float> sample, int stepIndex) { }

    public void Step(ReadOnlySpan<float> eps, int i, ReadOnlySpan<float> x, Span<float> prev, ReadOnlySpan<float> noise)
    {
        var t = _timesteps[i];
        var tp = t - Config.NumTrainTimesteps / _timesteps.Length;
        double a = _abar[t], ap = tp >= 0 ? _abar[tp] : (Config.SetAlphaToOne ? 1.0 : _abar[0]);
        var sigma = Config.Eta * Math.Sqrt((1 - ap) / (1 - a)) * Math.Sqrt(1 - a / ap);
        for (var k = 0; k < x.Length; k++)
        {
            var x0 = (x[k] - Math.Sqrt(1 - a) * eps[k]) / Math.Sqrt(a);
            var v = Math.Sqrt(ap) * x0 + Math.Sqrt(1 - ap - sigma * sigma) * eps[k];
            if (sigma > 0) v += sigma * noise[k];
            prev[k] = (float)v;
        }
    }

    public void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, int timestep, Span<float> noisy)
    {
        double a = _abar[timestep];
        for (var k = 0; k < original.Length; k++) noisy[k] = (float)(Math.Sqrt(a) * original[k] + Math.Sqrt(1 - a) * noise[k]);
    }
}
