using System.Text.Json;
using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Tests.Schedulers;

/// <summary>Single steps and whole loops against data/reference_schedulers.py (float64), within 1e-6.</summary>
public class SchedulerGoldenTests
{
    private const double Tolerance = 1e-6;

    public static IEnumerable<object[]> SingleSteps() => Indexed("single_steps.json");

    public static IEnumerable<object[]> Loops() => Indexed("loops.json");

    private static IEnumerable<object[]> Indexed(string file) =>
        SchedulerVectors.Load(file).EnumerateArray().Select((c, i) => new object[] { i, SchedulerVectors.Describe(c) });

    [Theory]
    [MemberData(nameof(SingleSteps))]
    public void SingleStepEqualsTheReference(int index, string description)
    {
        JsonElement c = SchedulerVectors.Load("single_steps.json")[index];
        var config = SchedulerVectors.Config(c.GetProperty("config"));
        var scheduler = SchedulerFactory.Create(c.GetProperty("scheduler").GetString()!, config);
        scheduler.SetTimesteps(c.GetProperty("steps").GetInt32());
        Assert.Equal(SchedulerVectors.Ints(c.GetProperty("timesteps")), scheduler.Timesteps);
        Assert.Equal(c.GetProperty("initNoiseSigma").GetDouble(), scheduler.InitNoiseSigma, 12);

        int stepIndex = c.GetProperty("stepIndex").GetInt32();
        float[] x = SchedulerVectors.Floats(c.GetProperty("sample"));
        float[] output = SchedulerVectors.Floats(c.GetProperty("modelOutput"));
        float[] noise = SchedulerVectors.Floats(c.GetProperty("noise"));
        // multistep schedulers can only be entered at step 0; the cases only ask for later steps of stateless ones
        float[] scaled = (float[])x.Clone();
        scheduler.ScaleModelInput(scaled, stepIndex);
        AssertClose(SchedulerVectors.Doubles(c.GetProperty("scaledSample")), scaled, description + " scale", relative: true);

        var next = new float[x.Length];
        scheduler.Step(output, stepIndex, x, next, noise);
        AssertClose(SchedulerVectors.Doubles(c.GetProperty("expected")), next, description + $" step {stepIndex}", relative: true);
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public void FullLoopOnTheAnalyticDenoiserEqualsTheReference(int index, string description)
    {
        JsonElement c = SchedulerVectors.Load("loops.json")[index];
        var config = SchedulerVectors.Config(c.GetProperty("config"));
        var scheduler = SchedulerFactory.Create(c.GetProperty("scheduler").GetString()!, config);
        scheduler.SetTimesteps(c.GetProperty("steps").GetInt32());
        Assert.Equal(SchedulerVectors.Ints(c.GetProperty("timesteps")), scheduler.Timesteps);

        float[] xT = SchedulerVectors.Floats(c.GetProperty("xT"));
        float[][] noise = c.GetProperty("noise").EnumerateArray().Select(SchedulerVectors.Floats).ToArray();
        float[] result = SchedulerLoop.Run(scheduler, new AnalyticDenoiser(config), xT, noise);
        AssertClose(SchedulerVectors.Doubles(c.GetProperty("expected")), result, description);
    }

    /// <param name="relative">Single steps on random inputs reach |x| ~ 1e4 (epsilon at abar ~ 4e-5): compare
    /// them to 1e-6 relative to max(1, |expected|), the float32 output's own precision being 6e-8.</param>
    private static void AssertClose(double[] expected, float[] actual, string what, bool relative = false)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        int at = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs(expected[i] - actual[i]);
            if (relative)
                d /= Math.Max(1.0, Math.Abs(expected[i]));
            if (!(d <= worst))
            {
                worst = d;
                at = i;
            }
        }
        Assert.True(worst <= Tolerance, $"{what}: max {(relative ? "relative " : "")}|diff| {worst:E3} at {at} ({actual[at]} vs {expected[at]})");
    }
}

/// <summary>The canonical loop (IScheduler's remarks), as the sampler runs it.</summary>
internal static class SchedulerLoop
{
    public static float[] Run(IScheduler scheduler, AnalyticDenoiser model, float[] xT, float[][] noise)
    {
        var x = new float[xT.Length];
        for (int i = 0; i < x.Length; i++)
            x[i] = (float)(xT[i] * scheduler.InitNoiseSigma);
        var input = new float[x.Length];
        var output = new float[x.Length];
        for (int i = 0; i < scheduler.Timesteps.Count; i++)
        {
            x.CopyTo(input, 0);
            scheduler.ScaleModelInput(input, i);
            model.Predict(input, scheduler.Timesteps[i], output);
            scheduler.Step(output, i, x, x, noise.Length > 0 ? noise[i] : default);
        }
        return x;
    }
}
