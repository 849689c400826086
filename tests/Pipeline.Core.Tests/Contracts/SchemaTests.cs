using System.Text.Json;
using Pipeline.Core.Contracts;

namespace Pipeline.Core.Tests.Contracts;

/// <summary>The committed schemas describe exactly what the records serialise to: fully populated instances validate
/// (with additionalProperties false, a record field missing from its schema fails), and the enums agree.</summary>
public class SchemaTests
{
    private static readonly string Sha = new('a', 64);

    public static TheoryData<string, object> Documents() => new()
    {
        { "augmentation-request", FullRequest() },
        { "run-status", new RunStatus
            {
                RunId = "run-20261122-061530-3f9a1c", State = RunState.CompletedWithFailures,
                CreatedAt = new DateTimeOffset(2026, 11, 22, 6, 15, 30, TimeSpan.Zero), UpdatedAt = new DateTimeOffset(2026, 11, 22, 6, 20, 0, TimeSpan.Zero),
                Stage = "report", Progress = new RunProgress(10, 9, 1), CustomStatus = JsonDocument.Parse("""{"shard":3}""").RootElement,
                Error = "1 item failed", Problems = ["$.x: y"],
            } },
        { "dataset-index", new DatasetIndex
            {
                Dataset = "vindr-sample", FileCount = 1, TotalBytes = 10,
                Files = [new DatasetFile("a/b.dcm", 10, Sha, "application/dicom", "\"0x8DC1\"", new DatasetImageFacts(130, 160, true, null)), new DatasetFile("c.png", 5, Sha, "image/png", "\"0x8DC2\"", new DatasetImageFacts(0, 0, false, "not a PNG"))],
                Problems = ["a/b.dcm: no pixel data"], ValidatedWith = "decodePixels=True",
                AnnotationFormat = "CbisDdsm",
                Findings = [new DatasetFinding("a/b.dcm", "P_1_LEFT_CC", 104, 128, "Mass", new BoundingBox(1, 2, 30.5, 40), "training", "L", "CC", "mass_case_description_train_set.csv:2"),
                    new DatasetFinding("a/c.dcm", "c", 104, 128, null, null)],
            } },
        { "lineage", new Lineage
            {
                RunId = "r1", ItemId = "t0-000001", Mode = TaskMode.Insertion, SourceImage = "datasets/d/a.dcm", SourceImageSha256 = Sha,
                ReferenceImage = "datasets/d/b.dcm", ReferenceImageSha256 = Sha, ReferenceBox = new BoundingBox(1, 2, 30.5, 40),
                TargetBox = new BoundingBox(100, 100, 130, 140), ClassName = "Mass", Model = new ModelIdentity("models/m/1", Sha),
                Seed = 123456789012, Sampler = new SamplerSettings { Scheduler = SchedulerKind.Ddim, Steps = 25, Guidance = 3, Eta = 0 },
                Output = "runs/r1/out/t0-000001.dcm", OutputSha256 = Sha,
            } },
    };

    internal static AugmentationRequest FullRequest() => new()
    {
        RunId = "run-1", Dataset = "d", Model = "models/m/1.0.0", Seed = 7, ShardSize = 4, DryRun = true,
        Tasks = [new AugmentationTask { Mode = TaskMode.Insertion, Count = 3 }, new AugmentationTask { Mode = TaskMode.Replacement, Targets = new Dictionary<string, int> { ["Mass"] = 2 } }],
        Sampler = new SamplerSettings { Scheduler = SchedulerKind.Euler, Steps = 30, Guidance = 2.5, Eta = 0.5 },
        Output = new OutputOptions { Format = OutputFormat.Png, Deidentify = false, DropFlagged = true },
        Metrics = Enum.GetValues<MetricKind>(),
        RealismGate = new RealismGate { MinSsim = 0.1, MinPsnr = 10, MaxLpips = 0.5, MinEmbeddingSimilarity = 0.2, MaxSeam = 1.2, MaxTexture = 0.8 },
    };

    [Theory]
    [MemberData(nameof(Documents))]
    public void Serialised_records_validate_against_their_schema(string schema, object document)
    {
        using var doc = JsonDocument.Parse(JsonSerializer.Serialize(document, document.GetType(), PipelineJson.Options));
        var problems = JsonSchema.Load(schema).Validate(doc.RootElement);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Serialised_records_round_trip(string schema, object document)
    {
        _ = schema;
        string json = JsonSerializer.Serialize(document, document.GetType(), PipelineJson.Options);
        object back = JsonSerializer.Deserialize(json, document.GetType(), PipelineJson.Options)!;
        Assert.Equal(json, JsonSerializer.Serialize(back, document.GetType(), PipelineJson.Options));
    }

    [Fact]
    public void Every_committed_schema_is_embedded_and_loads()
    {
        var names = JsonSchema.EmbeddedSchemaNames().Order().ToList();
        Assert.Equal(["augmentation-request", "dataset-index", "lineage", "model-package", "run-status"], names);
        foreach (var n in names) Assert.NotNull(JsonSchema.Load(n));
    }

    public static TheoryData<string, string, Type> EnumsInSchemas() => new()
    {
        { "augmentation-request", "$.tasks[0].mode", typeof(TaskMode) },
        { "augmentation-request", "$.sampler.scheduler", typeof(SchedulerKind) },
        { "augmentation-request", "$.output.format", typeof(OutputFormat) },
        { "augmentation-request", "$.metrics[0]", typeof(MetricKind) },
        { "run-status", "$.state", typeof(RunState) },
        { "lineage", "$.mode", typeof(TaskMode) },
    };

    /// <summary>Every enum value the record can write is accepted at that place, and a name outside the enum is not.</summary>
    [Theory]
    [MemberData(nameof(EnumsInSchemas))]
    public void Schema_enums_agree_with_the_csharp_enums(string schema, string path, Type enumType)
    {
        var s = JsonSchema.Load(schema);
        object baseline = schema switch
        {
            "augmentation-request" => FullRequest() with { Metrics = [MetricKind.Ssim] },
            "run-status" => new RunStatus { RunId = "r", State = RunState.Pending },
            _ => Documents().Select(row => row[1]).OfType<Lineage>().Single(),
        };
        foreach (var value in Enum.GetValues(enumType).Cast<object>().Select(v => JsonSerializer.Serialize(v, enumType, PipelineJson.Options)).Append("\"notAValue\""))
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(baseline, baseline.GetType(), PipelineJson.Options))!;
            Set(node, path, System.Text.Json.Nodes.JsonNode.Parse(value)!);
            using var doc = JsonDocument.Parse(node.ToJsonString());
            var problems = s.Validate(doc.RootElement);
            if (value == "\"notAValue\"") Assert.Contains(problems, p => p.Path == path);
            else Assert.True(problems.Count == 0, $"{value}: {string.Join("; ", problems)}");
        }
    }

    private static void Set(System.Text.Json.Nodes.JsonNode root, string path, System.Text.Json.Nodes.JsonNode value)
    {
        // paths here are $.a.b or $.a[0].b
        var parts = path[2..].Replace("[", ".[").Split('.');
        var node = root;
        for (int i = 0; i < parts.Length - 1; i++)
            node = parts[i].StartsWith('[') ? node[int.Parse(parts[i][1..^1])]! : node[parts[i]]!;
        string last = parts[^1];
        if (last.StartsWith('[')) node[int.Parse(last[1..^1])] = value; else node[last] = value;
    }

    [Fact]
    public void Unsupported_schema_keywords_are_refused_when_loaded()
    {
        var e = Assert.Throws<FormatException>(() => JsonSchema.Parse("""{"type":"object","oneOf":[]}""", "x.json"));
        Assert.Contains("oneOf", e.Message);
        Assert.Throws<FormatException>(() => JsonSchema.Parse("""{"$ref":"#/$defs/missing"}""", "x.json"));
    }

    [Fact]
    public void Run_status_reads_camel_case_states()
    {
        var s = PipelineJson.Deserialize<RunStatus>("""{"runId":"r","state":"completedWithFailures"}""", "status.json");
        Assert.Equal(RunState.CompletedWithFailures, s.State);
        // the type attribute gives the same names without the shared options
        Assert.Equal("\"rejected\"", JsonSerializer.Serialize(RunState.Rejected));
    }
}
