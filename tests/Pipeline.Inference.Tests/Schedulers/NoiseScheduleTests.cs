using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Tests.Schedulers;

public class NoiseScheduleTests
{
    public static TheoryData<string> ScheduleNames => new() { "linear", "scaled_linear", "squaredcos_cap_v2" };

    [Theory]
    [MemberData(nameof(ScheduleNames))]
    public void AlphaBarTableEqualsTheFloat64Reference(string name)
    {
        var entry = SchedulerVectors.Load("alpha_bars.json").GetProperty(name);
        var schedule = new NoiseSchedule(SchedulerVectors.Config(entry.GetProperty("config")));
        double[] expected = SchedulerVectors.Doubles(entry.GetProperty("alphasCumprod"));
        Assert.Equal(expected.Length, schedule.AlphasCumprod.Length);
        for (int t = 0; t < expected.Length; t++)
            Assert.True(Math.Abs(expected[t] - schedule.AlphasCumprod[t]) <= 1e-14 + 1e-12 * expected[t], $"{name} t={t}: {schedule.AlphasCumprod[t]} vs {expected[t]}");
    }

    // docs/reference.md, "Diffusion": the abar_t table (1-based t; 6 significant digits).
    [Theory]
    [InlineData(BetaSchedule.Linear, 0.0001, 0.02, new[] { 0.9999, 0.524085, 0.0785872, 0.00335055, 4.03583e-05 })]
    [InlineData(BetaSchedule.ScaledLinear, 0.00085, 0.012, new[] { 0.99915, 0.675432, 0.27767, 0.0566235, 0.0046601 })]
    [InlineData(BetaSchedule.SquaredCosCapV2, 0.0001, 0.02, new[] { 0.999959, 0.847012, 0.493844, 0.144272, 2.43e-09 })]
    public void AlphaBarMatchesTheTableInTheDiffusionNotes(BetaSchedule schedule, double start, double end, double[] expected)
    {
        var s = new NoiseSchedule(new SchedulerConfig { BetaSchedule = schedule, BetaStart = start, BetaEnd = end });
        int[] oneBased = [1, 250, 500, 750, 1000];
        for (int i = 0; i < oneBased.Length; i++)
        {
            double actual = s.AlphaBar(oneBased[i] - 1);
            double digits = expected[i] == 2.43e-09 ? 5e-3 : 6e-6; // the table rounds the cosine endpoint to 3 digits
            Assert.True(Math.Abs(actual - expected[i]) <= digits * expected[i], $"{schedule} t={oneBased[i]}: {actual} vs {expected[i]}");
        }
    }

    [Fact]
    public void AlphaBarIsTheProductOfOneMinusBeta()
    {
        // Guards a common misprint (docs/reference.md, "Diffusion"): abar_t = prod_{i<=t} alpha_i, not prod up to T, not alpha_t itself.
        var s = new NoiseSchedule(new SchedulerConfig { BetaSchedule = BetaSchedule.Linear, BetaStart = 1e-4, BetaEnd = 0.02 });
        Assert.Equal(1e-4, s.Betas[0], 15);
        Assert.Equal(0.02, s.Betas[999], 15);
        Assert.Equal(1e-4 + 500 * (0.02 - 1e-4) / 999, s.Betas[500], 15);
        Assert.Equal((1 - s.Betas[0]) * (1 - s.Betas[1]) * (1 - s.Betas[2]), s.AlphaBar(2), 15);
        for (int t = 1; t < 1000; t++)
            Assert.True(s.AlphaBar(t) < s.AlphaBar(t - 1));
    }

    [Fact]
    public void ScaledLinearIsLinearInSqrtBeta()
    {
        var s = new NoiseSchedule(new SchedulerConfig { BetaSchedule = BetaSchedule.ScaledLinear, BetaStart = 0.00085, BetaEnd = 0.012 });
        double mid = Math.Sqrt(0.00085) + 400 * (Math.Sqrt(0.012) - Math.Sqrt(0.00085)) / 999;
        Assert.Equal(mid * mid, s.Betas[400], 15);
    }

    [Fact]
    public void CosineBetasAreCappedAt0999()
    {
        var s = new NoiseSchedule(new SchedulerConfig { BetaSchedule = BetaSchedule.SquaredCosCapV2 });
        Assert.Equal(0.999, s.Betas[999]);
        Assert.All(s.Betas.ToArray(), b => Assert.InRange(b, 0.0, 0.999));
    }

    [Theory]
    [InlineData(true, TimestepSpacing.Leading, 1.0)]
    [InlineData(false, TimestepSpacing.Leading, 0.99915)]
    [InlineData(true, TimestepSpacing.Ldm, 0.99915)]
    public void FinalAlphaBarFollowsSetAlphaToOneAndLdmSpacing(bool setAlphaToOne, TimestepSpacing spacing, double expected)
    {
        var s = new NoiseSchedule(new SchedulerConfig { SetAlphaToOne = setAlphaToOne, TimestepSpacing = spacing });
        Assert.Equal(expected, s.FinalAlphaCumprod, 12);
        Assert.Equal(expected, s.AlphaBar(-1), 12);
    }

    [Fact]
    public void BadConfigsAndTimestepsAreRejectedWithTheFieldName()
    {
        var e = Assert.Throws<ArgumentException>(() => new NoiseSchedule(new SchedulerConfig { BetaEnd = 1.5 }));
        Assert.Contains("BetaEnd", e.Message);
        Assert.Contains("NumTrainTimesteps", Assert.Throws<ArgumentException>(() => new NoiseSchedule(new SchedulerConfig { NumTrainTimesteps = 1 })).Message);
        Assert.Contains("Eta", Assert.Throws<ArgumentException>(() => new DdimScheduler(new SchedulerConfig { Eta = double.NaN })).Message);
        var s = new NoiseSchedule(new SchedulerConfig());
        Assert.Throws<ArgumentOutOfRangeException>(() => s.AlphaBar(1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.AlphaBar(-2));
    }

    [Theory]
    [InlineData("linear", BetaSchedule.Linear)]
    [InlineData("scaled_linear", BetaSchedule.ScaledLinear)]
    [InlineData("squaredcos_cap_v2", BetaSchedule.SquaredCosCapV2)]
    public void BetaScheduleNamesRoundTrip(string name, BetaSchedule value)
    {
        Assert.Equal(value, SchedulerNames.ParseBetaSchedule(name));
        Assert.Equal(name, SchedulerNames.ToName(value));
    }

    [Fact]
    public void UnknownNamesListTheAcceptedOnes()
    {
        Assert.Contains("scaled_linear", Assert.Throws<ArgumentException>(() => SchedulerNames.ParseBetaSchedule("cosine")).Message);
        Assert.Contains("v_prediction", Assert.Throws<ArgumentException>(() => SchedulerNames.ParsePredictionType("v")).Message);
        Assert.Contains("trailing", Assert.Throws<ArgumentException>(() => SchedulerNames.ParseTimestepSpacing("uniform")).Message);
        Assert.Contains("fixed_large", Assert.Throws<ArgumentException>(() => SchedulerNames.ParseVarianceType("learned")).Message);
    }
}
