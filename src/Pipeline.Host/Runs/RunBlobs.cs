namespace Pipeline.Host.Runs;

/// <summary>The deterministic blob names of one run under runs/{runId}/ (relative to the run's prefix).</summary>
public static class RunBlobs
{
    public const string Request = "request.json";
    public const string Plan = "plan.json";
    public const string Estimate = "estimate.json";
    public const string Aggregate = "aggregate.json";
    public const string ReportJson = "report.json";
    public const string ReportHtml = "report.html";
    /// <summary>The report's input (Pipeline.Metrics RunReportModel), read by `pipeline report`.</summary>
    public const string ReportModel = "report-model.json";
    public const string Annotations = "out/finding_annotations.csv";

    public static string PlanShard(int index) => $"plan/shard-{index:D5}.json";
    public static string PrepShard(int index) => $"prep/shard-{index:D5}.json";
    public static string PrepTensors(string itemId) => $"prep/{itemId}.tensors";
    public static string GenShard(int index) => $"gen/shard-{index:D5}.json";
    public static string GenTensors(string itemId) => $"gen/{itemId}.tensors";
    public static string ComposeShard(int index) => $"compose/shard-{index:D5}.json";
    /// <summary>A file of the augmented dataset (runs/{id}/out/{path}).</summary>
    public static string Output(string path) => $"out/{path}";
    public static string OutputImage(string itemId, string extension) => $"out/images/{itemId}{extension}";
    public static string OutputLineage(string itemId) => $"out/lineage/{itemId}.json";
    public static string ItemResult(string itemId) => $"items/{itemId}.json";
    public static string Thumbnail(string itemId) => $"thumbs/{itemId}.png";
}
