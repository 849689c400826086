namespace Pipeline.Storage;

/// <summary>
/// The names of the pipeline's containers, queues and well-known blobs (ARCHITECTURE.md, "Data flow of one run").
/// <code>
/// datasets/{name}/...               input datasets (read-only for runs; ingestion writes only _index.json)
/// runs/{runId}/status.json          run status (ETag-conditional updates)
/// runs/{runId}/...                  everything a run writes (write-if-absent, SHA-256 recorded)
/// models/{name}/{version}/...       model packages (model.json + ONNX files)
/// </code>
/// </summary>
public static class StorageLayout
{
    public const string DatasetsContainer = "datasets";
    public const string RunsContainer = "runs";
    public const string ModelsContainer = "models";

    public const string AugmentRequestsQueue = "augment-requests";
    public const string InferenceRequestsQueue = "inference-requests";
    public const string PoisonSuffix = "-poison";
    public const string AugmentRequestsPoisonQueue = AugmentRequestsQueue + PoisonSuffix;
    public const string InferenceRequestsPoisonQueue = InferenceRequestsQueue + PoisonSuffix;

    public const string StatusBlob = "status.json";
    public const string PlanBlob = "plan.json";

    /// <summary>Blob metadata key holding the lowercase hex SHA-256 of the content.</summary>
    public const string Sha256MetadataKey = "sha256";

    public static IReadOnlyList<string> Containers { get; } = [DatasetsContainer, RunsContainer, ModelsContainer];

    public static IReadOnlyList<string> Queues { get; } =
        [AugmentRequestsQueue, InferenceRequestsQueue, AugmentRequestsPoisonQueue, InferenceRequestsPoisonQueue];

    /// <summary>The poison queue of <paramref name="queue"/> (Functions' convention: name + "-poison").</summary>
    public static string PoisonQueueOf(string queue) => queue + PoisonSuffix;
}
