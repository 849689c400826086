namespace Pipeline.Inference.Schedulers;

/// <summary>
/// The training noise schedule: betas and their cumulative products, in float64.
/// Timesteps are 0-based: <c>AlphasCumprod[t] = prod_{i &lt;= t} (1 - Betas[i])</c>, so Ho et al.'s 1-based
/// abar_1 is index 0 here.
/// </summary>
public sealed class NoiseSchedule
{
    private readonly double[] _betas;
    private readonly double[] _alphasCumprod;

    public NoiseSchedule(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        NumTrainTimesteps = config.NumTrainTimesteps;
        _betas = ComputeBetas(config);
        _alphasCumprod = new double[_betas.Length];
        double product = 1.0;
        for (int t = 0; t < _betas.Length; t++)
        {
            product *= 1.0 - _betas[t]; // abar_t = prod (1 - beta_i), Ho et al. 2020 §2
            _alphasCumprod[t] = product;
        }
        // The ldm spacing ends on abar[0] like LDM's alphas_prev[0] = alphacums[0]; otherwise SetAlphaToOne decides.
        FinalAlphaCumprod = config.TimestepSpacing != TimestepSpacing.Ldm && config.SetAlphaToOne ? 1.0 : _alphasCumprod[0];
    }

    public int NumTrainTimesteps { get; }

    public ReadOnlySpan<double> Betas => _betas;

    public ReadOnlySpan<double> AlphasCumprod => _alphasCumprod;

    /// <summary>The alpha-bar a loop's last step goes to: 1 (clean) or alpha_bar[0] (see SchedulerConfig.SetAlphaToOne).</summary>
    public double FinalAlphaCumprod { get; }

    /// <summary>alpha-bar at <paramref name="timestep"/>; -1 stands for "after the last step" (<see cref="FinalAlphaCumprod"/>).</summary>
    public double AlphaBar(int timestep)
    {
        if (timestep == -1)
            return FinalAlphaCumprod;
        if ((uint)timestep >= (uint)_alphasCumprod.Length)
            throw new ArgumentOutOfRangeException(nameof(timestep), timestep, $"Timestep must lie in [0, {_alphasCumprod.Length - 1}] (or -1 for the final step).");
        return _alphasCumprod[timestep];
    }

    /// <summary>The betas of a config's schedule.</summary>
    public static double[] ComputeBetas(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        int n = config.NumTrainTimesteps;
        switch (config.BetaSchedule)
        {
            case BetaSchedule.Linear:
                // Ho et al. 2020 §4: betas increasing linearly from beta_1 to beta_T.
                return Linspace(config.BetaStart, config.BetaEnd, n);
            case BetaSchedule.ScaledLinear:
            {
                // LDM / Stable Diffusion ("linear" in LDM's code): linear in sqrt(beta), then squared.
                double[] b = Linspace(Math.Sqrt(config.BetaStart), Math.Sqrt(config.BetaEnd), n);
                for (int i = 0; i < b.Length; i++)
                    b[i] *= b[i];
                return b;
            }
            case BetaSchedule.SquaredCosCapV2:
            {
                // Nichol & Dhariwal 2021 Eq. 17: abar(t) = f(t) / f(0), f(t) = cos^2(((t/T + s) / (1 + s)) pi/2),
                // s = 0.008; beta_t = 1 - abar(t) / abar(t-1), clipped at 0.999 to avoid a singularity at t = T.
                var b = new double[n];
                for (int i = 0; i < n; i++)
                    b[i] = Math.Min(1.0 - CosineF((i + 1) / (double)n) / CosineF(i / (double)n), 0.999);
                return b;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(config), config.BetaSchedule, "Unknown beta schedule.");
        }
    }

    private static double CosineF(double u)
    {
        double c = Math.Cos((u + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /// <summary>numpy.linspace's arithmetic: a + i (b - a) / (n - 1), the last element exactly b.</summary>
    internal static double[] Linspace(double a, double b, int n)
    {
        var r = new double[n];
        if (n == 1)
        {
            r[0] = a;
            return r;
        }
        double step = (b - a) / (n - 1);
        for (int i = 0; i < n; i++)
            r[i] = a + i * step;
        r[n - 1] = b;
        return r;
    }
}
