namespace Pipeline.Inference.Schedulers;

/// <summary>Builds a scheduler from its name (model.json "sampler.scheduler", the CLI's --scheduler) and a config.</summary>
public static class SchedulerFactory
{
    /// <summary>The names <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["ddim", "plms", "dpmpp2m", "euler", "ddpm"];

    public static IScheduler Create(string name, SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return name switch
        {
            "ddim" => new DdimScheduler(config),
            "plms" => new PlmsScheduler(config),
            "dpmpp2m" => new DpmSolverMultistepScheduler(config),
            "euler" => new EulerDiscreteScheduler(config),
            "ddpm" => new DdpmScheduler(config),
            _ => throw new ArgumentException($"Unknown scheduler '{name}'; expected one of: {string.Join(", ", Names)}.", nameof(name)),
        };
    }
}
