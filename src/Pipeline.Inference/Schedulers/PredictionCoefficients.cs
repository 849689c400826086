namespace Pipeline.Inference.Schedulers;

/// <summary>
/// The model output, whatever it predicts, as x0 and epsilon: both are linear in (x_t, output), so per timestep
/// x0 = X0FromSample x_t + X0FromOutput output and eps = EpsFromSample x_t + EpsFromOutput output.
/// With a = sqrt(abar_t), s = sqrt(1 - abar_t) (x_t = a x0 + s eps, Ho et al. 2020 Eq. 4):
/// epsilon: x0 = (x_t - s eps) / a (Ho et al. Eq. 15);
/// v = a eps - s x0 (Salimans &amp; Ho 2022 §4): x0 = a x_t - s v, eps = s x_t + a v;
/// sample: eps = (x_t - a x0) / s.
/// </summary>
public readonly record struct PredictionCoefficients(double X0FromSample, double X0FromOutput, double EpsFromSample, double EpsFromOutput)
{
    public static PredictionCoefficients For(PredictionType type, double alphaBar)
    {
        double a = Math.Sqrt(alphaBar), s = Math.Sqrt(1.0 - alphaBar);
        return type switch
        {
            PredictionType.Epsilon => new(1.0 / a, -s / a, 0.0, 1.0),
            PredictionType.VPrediction => new(a, -s, s, a),
            PredictionType.Sample => new(0.0, 1.0, 1.0 / s, -a / s),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown prediction type."),
        };
    }

    public double X0(double sample, double output) => X0FromSample * sample + X0FromOutput * output;

    public double Eps(double sample, double output) => EpsFromSample * sample + EpsFromOutput * output;
}
