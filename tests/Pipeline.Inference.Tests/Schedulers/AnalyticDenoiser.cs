using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Tests.Schedulers;

/// <summary>
/// The C# twin of data/analytic_denoiser.py: the posterior-mean denoiser of Gaussian data x0 ~ N(mu, 0.25 I),
/// mu_j = 0.5 cos(0.7 j), plus 0.05 sin(3 x), returned as the config's prediction type. Computes in float64 from
/// the float32 model input, as an ONNX denoiser would see it.
/// </summary>
internal sealed class AnalyticDenoiser(SchedulerConfig config)
{
    private const double S2 = 0.25;
    private readonly NoiseSchedule _schedule = new(config);

    public void Predict(ReadOnlySpan<float> input, int timestep, Span<float> output)
    {
        double ab = _schedule.AlphaBar(timestep);
        double a = Math.Sqrt(ab), s = Math.Sqrt(1.0 - ab);
        double k = S2 * a / (ab * S2 + 1.0 - ab);
        for (int j = 0; j < input.Length; j++)
        {
            double x = input[j];
            double mu = 0.5 * Math.Cos(0.7 * j);
            double x0 = mu + k * (x - a * mu) + 0.05 * Math.Sin(3.0 * x);
            double eps = (x - a * x0) / s;
            output[j] = (float)(config.PredictionType switch
            {
                PredictionType.Epsilon => eps,
                PredictionType.VPrediction => a * eps - s * x0,
                _ => x0,
            });
        }
    }
}
