namespace Pipeline.Host.Runs;

/// <summary>Where model packages are cached locally (blob packages are downloaded once per model.json hash).</summary>
public sealed class ModelProviderOptions
{
    public const string SectionName = "Pipeline:Models";

    public string CacheDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "pipeline-model-cache");

    /// <summary>
    /// Whether ONNX Runtime's intra-op threads spin while waiting for work (<see cref="Pipeline.Inference.Onnx.OrtSessionOptions.AllowSpinning"/>).
    /// Off by default: the sampler shares the machine with the CPU stages (and on this project's shared machines with
    /// other processes), and spinning threads take the cores they wait on. Measured on mammo-tiny, 8 items x 25 steps
    /// on 2 shared cores: 515 -> 326 CPU ms per item and 847 -> 643 ms per item wall, same samples (docs/e2e-bench.md).
    /// </summary>
    public bool AllowSpinning { get; set; }
}
