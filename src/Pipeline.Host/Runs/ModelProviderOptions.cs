namespace Pipeline.Host.Runs;

/// <summary>Where model packages are cached locally (blob packages are downloaded once per model.json hash).</summary>
public sealed class ModelProviderOptions
{
    public const string SectionName = "Pipeline:Models";

    public string CacheDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "pipeline-model-cache");
}
