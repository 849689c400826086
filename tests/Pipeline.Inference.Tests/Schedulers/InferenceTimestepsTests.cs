using System.Text.Json;
using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Tests.Schedulers;

public class InferenceTimestepsTests
{
    public static IEnumerable<object[]> Cases() =>
        SchedulerVectors.Load("timesteps.json").EnumerateArray().Select(c => new object[]
        {
            c.GetProperty("spacing").GetString()!, c.GetProperty("steps").GetInt32(), c.GetProperty("stepsOffset").GetInt32(),
            c.GetProperty("timesteps").GetRawText(),
        });

    [Theory]
    [MemberData(nameof(Cases))]
    public void TimestepsEqualTheReference(string spacing, int steps, int offset, string expectedJson)
    {
        int[] expected = JsonSerializer.Deserialize<int[]>(expectedJson)!;
        var config = new SchedulerConfig { TimestepSpacing = SchedulerNames.ParseTimestepSpacing(spacing), StepsOffset = offset };
        Assert.Equal(expected, InferenceTimesteps.Compute(config, steps));
    }

    [Fact]
    public void LdmSpacingIsAnyDoorsDdimSchedule()
    {
        // LDM make_ddim_timesteps(discr="uniform", 50 steps, T=1000): range(0, 1000, 20) + 1
        var ts = InferenceTimesteps.Compute(new SchedulerConfig { TimestepSpacing = TimestepSpacing.Ldm }, 50);
        Assert.Equal(Enumerable.Range(0, 50).Select(k => 981 - 20 * k), ts);
        // 30 steps (AnyDoor's demo) do not divide 1000: range(0, 1000, 33) has 31 entries
        Assert.Equal(31, InferenceTimesteps.Compute(new SchedulerConfig { TimestepSpacing = TimestepSpacing.Ldm }, 30).Length);
    }

    [Fact]
    public void LeadingWithOffsetOneEqualsLdmWhenStepsDivideT()
    {
        var leading = InferenceTimesteps.Compute(new SchedulerConfig { StepsOffset = 1 }, 50);
        var ldm = InferenceTimesteps.Compute(new SchedulerConfig { TimestepSpacing = TimestepSpacing.Ldm }, 50);
        Assert.Equal(ldm, leading);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public void StepCountsOutsideTheTrainingRangeAreRejected(int steps)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => InferenceTimesteps.Compute(new SchedulerConfig(), steps));
        Assert.Contains("[1, 1000]", e.Message);
    }

    [Fact]
    public void AnOffsetThatPushesTimestepsPastTIsRejected()
    {
        // leading with 1000 steps and offset 1 would visit t = 1000
        var e = Assert.Throws<ArgumentException>(() => InferenceTimesteps.Compute(new SchedulerConfig { StepsOffset = 1 }, 1000));
        Assert.Contains("StepsOffset", e.Message);
        Assert.Throws<ArgumentException>(() => InferenceTimesteps.Compute(new SchedulerConfig { TimestepSpacing = TimestepSpacing.Ldm }, 1000));
    }
}
