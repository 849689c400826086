namespace Pipeline.Inference.Schedulers;

/// <summary>The snake_case names diffusers' scheduler_config.json and model.json use, to and from the enums.</summary>
public static class SchedulerNames
{
    public static BetaSchedule ParseBetaSchedule(string name) => name switch
    {
        "linear" => BetaSchedule.Linear,
        "scaled_linear" => BetaSchedule.ScaledLinear,
        "squaredcos_cap_v2" => BetaSchedule.SquaredCosCapV2,
        _ => throw Unknown("beta schedule", name, "linear, scaled_linear, squaredcos_cap_v2"),
    };

    public static PredictionType ParsePredictionType(string name) => name switch
    {
        "epsilon" => PredictionType.Epsilon,
        "v_prediction" => PredictionType.VPrediction,
        "sample" => PredictionType.Sample,
        _ => throw Unknown("prediction type", name, "epsilon, v_prediction, sample"),
    };

    public static TimestepSpacing ParseTimestepSpacing(string name) => name switch
    {
        "leading" => TimestepSpacing.Leading,
        "trailing" => TimestepSpacing.Trailing,
        "linspace" => TimestepSpacing.Linspace,
        "ldm" => TimestepSpacing.Ldm,
        _ => throw Unknown("timestep spacing", name, "leading, trailing, linspace, ldm"),
    };

    public static VarianceType ParseVarianceType(string name) => name switch
    {
        "fixed_small" => VarianceType.FixedSmall,
        "fixed_large" => VarianceType.FixedLarge,
        _ => throw Unknown("variance type", name, "fixed_small, fixed_large"),
    };

    public static string ToName(BetaSchedule value) => value switch
    {
        BetaSchedule.Linear => "linear",
        BetaSchedule.ScaledLinear => "scaled_linear",
        BetaSchedule.SquaredCosCapV2 => "squaredcos_cap_v2",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    public static string ToName(PredictionType value) => value switch
    {
        PredictionType.Epsilon => "epsilon",
        PredictionType.VPrediction => "v_prediction",
        PredictionType.Sample => "sample",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    public static string ToName(TimestepSpacing value) => value switch
    {
        TimestepSpacing.Leading => "leading",
        TimestepSpacing.Trailing => "trailing",
        TimestepSpacing.Linspace => "linspace",
        TimestepSpacing.Ldm => "ldm",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    public static string ToName(VarianceType value) => value switch
    {
        VarianceType.FixedSmall => "fixed_small",
        VarianceType.FixedLarge => "fixed_large",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    private static ArgumentException Unknown(string what, string? name, string expected) =>
        new($"Unknown {what} '{name}'; expected one of: {expected}.");
}
