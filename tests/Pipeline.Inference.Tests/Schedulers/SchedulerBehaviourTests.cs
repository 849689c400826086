using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Tests.Schedulers;

/// <summary>Identities between the schedulers (independent of the Python reference), the interface's rules and errors.</summary>
public class SchedulerBehaviourTests
{
    private static readonly SchedulerConfig Linear = new() { BetaSchedule = BetaSchedule.Linear, BetaStart = 1e-4, BetaEnd = 0.02 };

    private static float[] Gaussian(int n, int seed)
    {
        var rng = new Random(seed);
        var r = new float[n];
        for (int i = 0; i < n; i++)
            r[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return r;
    }

    private static float[] Step(IScheduler s, float[] output, int i, float[] x, float[]? noise = null)
    {
        var next = new float[x.Length];
        s.Step(output, i, x, next, noise ?? []);
        return next;
    }

    private static void Close(float[] a, float[] b, double tol)
    {
        for (int i = 0; i < a.Length; i++)
            Assert.True(Math.Abs(a[i] - b[i]) <= tol * Math.Max(1, Math.Abs(a[i])), $"[{i}] {a[i]} vs {b[i]}");
    }

    [Theory]
    [InlineData(PredictionType.Epsilon)]
    [InlineData(PredictionType.VPrediction)]
    [InlineData(PredictionType.Sample)]
    public void DdimWithEtaOneIsTheDdpmPosterior(PredictionType type)
    {
        // Song et al. 2021 §4.1: eta = 1 makes the DDIM step the DDPM posterior q(x_p | x_t, x0) with beta tilde.
        var ddpm = new DdpmScheduler(Linear with { PredictionType = type });
        var ddim = new DdimScheduler(Linear with { PredictionType = type, Eta = 1.0 });
        ddpm.SetTimesteps(10);
        ddim.SetTimesteps(10);
        float[] x = Gaussian(64, 1), o = Gaussian(64, 2), z = Gaussian(64, 3);
        foreach (int i in new[] { 0, 4, 8 })
            Close(Step(ddpm, o, i, x, z), Step(ddim, o, i, x, z), 2e-6);
    }

    [Theory]
    [InlineData(PredictionType.Epsilon)]
    [InlineData(PredictionType.VPrediction)]
    public void DpmSolverPlusPlusFirstStepIsDdim(PredictionType type)
    {
        // Lu et al. 2022b: DPM-Solver++(1) is DDIM (eta = 0).
        var dpm = new DpmSolverMultistepScheduler(Linear with { PredictionType = type });
        var ddim = new DdimScheduler(Linear with { PredictionType = type });
        dpm.SetTimesteps(20);
        ddim.SetTimesteps(20);
        float[] x = Gaussian(64, 4), o = Gaussian(64, 5);
        Close(Step(ddim, o, 0, x), Step(dpm, o, 0, x), 2e-6);
    }

    [Fact]
    public void EulerIsDdimInTheScaledSpace()
    {
        // Song et al. 2021 Eq. 14: DDIM is Euler's method on x / sqrt(abar) against sigma = sqrt((1 - abar) / abar).
        var euler = new EulerDiscreteScheduler(Linear);
        var ddim = new DdimScheduler(Linear);
        euler.SetTimesteps(10);
        ddim.SetTimesteps(10);
        float[] xVp = Gaussian(64, 6), eps = Gaussian(64, 7);
        foreach (int i in new[] { 0, 5, 9 })
        {
            double c = Math.Sqrt(euler.Sigmas[i] * euler.Sigmas[i] + 1), cNext = Math.Sqrt(euler.Sigmas[i + 1] * euler.Sigmas[i + 1] + 1);
            float[] xE = xVp.Select(v => (float)(v * c)).ToArray();
            float[] scaled = (float[])xE.Clone();
            euler.ScaleModelInput(scaled, i);
            Close(xVp, scaled, 1e-6);
            float[] nextE = Step(euler, eps, i, xE).Select(v => (float)(v / cNext)).ToArray();
            Close(Step(ddim, eps, i, xVp), nextE, 1e-5);
        }
    }

    [Fact]
    public void PlmsFirstStepTakesTwoEvaluations()
    {
        var plms = new PlmsScheduler(new SchedulerConfig { TimestepSpacing = TimestepSpacing.Ldm });
        plms.SetTimesteps(50);
        Assert.Equal(51, plms.ModelEvaluations);
        Assert.Equal(new[] { 981, 961, 961, 941 }, plms.Timesteps.Take(4));
        Assert.Equal(1, plms.Timesteps[^1]);
        plms.SetTimesteps(1);
        Assert.Equal(new[] { 1 }, plms.Timesteps);
    }

    [Fact]
    public void PlmsWithAConstantNoisePredictionIsDdim()
    {
        // Every Adams-Bashforth combination of equal predictions is that prediction: PLMS reduces to phi = DDIM.
        var config = new SchedulerConfig { TimestepSpacing = TimestepSpacing.Leading, StepsOffset = 1, SetAlphaToOne = false };
        var plms = new PlmsScheduler(config);
        var ddim = new DdimScheduler(config);
        plms.SetTimesteps(8);
        ddim.SetTimesteps(8);
        float[] eps = Gaussian(32, 8);
        float[] xp = Gaussian(32, 9), xd = (float[])xp.Clone();
        xp = Step(plms, eps, 0, xp);        // provisional sample, then the real first step from the start
        xp = Step(plms, eps, 1, xp);
        for (int i = 2; i < plms.ModelEvaluations; i++)
            xp = Step(plms, eps, i, xp);
        for (int i = 0; i < ddim.ModelEvaluations; i++)
            xd = Step(ddim, eps, i, xd);
        Close(xd, xp, 1e-5);
    }

    [Theory]
    [InlineData("ddim")]
    [InlineData("plms")]
    [InlineData("dpmpp2m")]
    [InlineData("euler")]
    [InlineData("ddpm")]
    public void StepMayWriteIntoTheSampleAndIsDeterministic(string name)
    {
        float[] Run(bool inPlace)
        {
            var s = SchedulerFactory.Create(name, Linear);
            s.SetTimesteps(6);
            var model = new AnalyticDenoiser(Linear);
            float[] x = Gaussian(40, 10).Select(v => (float)(v * s.InitNoiseSigma)).ToArray();
            var input = new float[x.Length];
            var output = new float[x.Length];
            for (int i = 0; i < s.ModelEvaluations; i++)
            {
                x.CopyTo(input, 0);
                s.ScaleModelInput(input, i);
                model.Predict(input, s.Timesteps[i], output);
                float[] z = Gaussian(40, 100 + i);
                if (inPlace)
                    s.Step(output, i, x, x, z);
                else
                    x = Step(s, output, i, x, z);
            }
            return x;
        }
        Assert.Equal(Run(false), Run(true));
        Assert.Equal(Run(true), Run(true));
    }

    [Theory]
    [InlineData("plms")]
    [InlineData("dpmpp2m")]
    public void SetTimestepsRestartsAMultistepLoop(string name)
    {
        var s = SchedulerFactory.Create(name, Linear);
        float[] x = Gaussian(16, 11), o = Gaussian(16, 12);
        s.SetTimesteps(5);
        float[] first = Step(s, o, 0, x);
        Step(s, o, 1, first);
        s.SetTimesteps(5);
        Assert.Equal(first, Step(s, o, 0, x));
        var e = Assert.Throws<InvalidOperationException>(() => Step(s, o, 2, x));
        Assert.Contains("expected step 1", e.Message);
    }

    [Theory]
    [InlineData("ddim")]
    [InlineData("euler")]
    public void CallingStepBeforeSetTimestepsSaysWhatToCall(string name)
    {
        var s = SchedulerFactory.Create(name, Linear);
        var e = Assert.Throws<InvalidOperationException>(() => Step(s, new float[4], 0, new float[4]));
        Assert.Contains("SetTimesteps", e.Message);
    }

    [Fact]
    public void StochasticStepsRequireNoiseOfTheSampleLength()
    {
        var ddpm = new DdpmScheduler(Linear);
        ddpm.SetTimesteps(4);
        var e = Assert.Throws<ArgumentException>(() => Step(ddpm, new float[8], 0, new float[8], new float[3]));
        Assert.Contains("noise", e.Message);
        Step(ddpm, new float[8], 3, new float[8]); // the last DDPM step adds no noise and needs none
        var ddim = new DdimScheduler(Linear with { Eta = 0.5 });
        ddim.SetTimesteps(4);
        Assert.True(ddim.NeedsNoise);
        Assert.Throws<ArgumentException>(() => Step(ddim, new float[8], 0, new float[8]));
        Assert.False(new DdimScheduler(Linear).NeedsNoise);
    }

    [Fact]
    public void MismatchedLengthsAndIndicesAreRejected()
    {
        var s = new DdimScheduler(Linear);
        s.SetTimesteps(4);
        Assert.Throws<ArgumentException>(() => s.Step(new float[3], 0, new float[4], new float[4], default));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Step(new float[4], 4, new float[4], new float[4], default));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.AddNoise(new float[4], new float[4], 1000, new float[4]));
        Assert.Throws<ArgumentException>(() => s.AddNoise(new float[4], new float[3], 10, new float[4]));
    }

    [Fact]
    public void FactoryKnowsTheFiveNamesAndListsThemOnError()
    {
        foreach (string name in SchedulerFactory.Names)
            Assert.Equal(name, SchedulerFactory.Create(name, Linear).Name);
        var e = Assert.Throws<ArgumentException>(() => SchedulerFactory.Create("lms", Linear));
        Assert.Contains("dpmpp2m", e.Message);
    }

    [Fact]
    public void AddNoiseIsTheForwardProcessInTheSchedulersSpace()
    {
        float[] x0 = Gaussian(16, 13), z = Gaussian(16, 14);
        var ddim = new DdimScheduler(Linear);
        var euler = new EulerDiscreteScheduler(Linear);
        var vp = new float[16];
        var ve = new float[16];
        ddim.AddNoise(x0, z, 500, vp);
        euler.AddNoise(x0, z, 500, ve);
        double ab = ddim.Schedule.AlphaBar(500);
        for (int i = 0; i < 16; i++)
        {
            Assert.Equal(Math.Sqrt(ab) * x0[i] + Math.Sqrt(1 - ab) * z[i], vp[i], 5e-6);
            Assert.Equal(vp[i] / Math.Sqrt(ab), ve[i], 5e-5); // the VE sample is the VP sample over sqrt(abar)
        }
    }

    [Fact]
    public void EulerInitialNoiseCoversSigmaMax()
    {
        var euler = new EulerDiscreteScheduler(new SchedulerConfig());
        Assert.Throws<InvalidOperationException>(() => euler.InitNoiseSigma);
        euler.SetTimesteps(20);
        double sigmaMax = euler.Sigmas[0];
        Assert.Equal(Math.Sqrt(sigmaMax * sigmaMax + 1), euler.InitNoiseSigma, 12);
        Assert.Equal(0.0, euler.Sigmas[^1]);
    }

    [Fact]
    public void ClipSampleBoundsThePredictedCleanSample()
    {
        // a sample prediction far outside [-1, 1] with a final step to abar = 1: DDIM returns x0 itself, clipped
        var s = new DdimScheduler(Linear with { PredictionType = PredictionType.Sample, ClipSample = true });
        s.SetTimesteps(1);
        Assert.Equal(new[] { 1f, -1f, 0.5f }, Step(s, [7f, -3f, 0.5f], 0, [0f, 0f, 0f]));
    }
}
