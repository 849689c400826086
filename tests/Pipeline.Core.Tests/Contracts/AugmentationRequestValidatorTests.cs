using System.Text.Json;
using Pipeline.Core.Contracts;

namespace Pipeline.Core.Tests.Contracts;

public class AugmentationRequestValidatorTests
{
    private const string Valid = """
    {
      "schemaVersion": 1,
      "runId": "run-1",
      "dataset": "vindr-sample",
      "tasks": [ { "mode": "insertion", "count": 10 }, { "mode": "replacement", "targets": { "Mass": 50, "Suspicious Calcification": 5 } } ],
      "model": "models/mammo-tiny/1.0.0",
      "sampler": { "scheduler": "dpmpp2m", "steps": 25, "guidance": 3.5, "eta": 0 },
      "seed": 42,
      "shardSize": 8,
      "output": { "format": "dicom", "deidentify": true, "dropFlagged": false },
      "metrics": ["ssim", "fid", "embeddingSimilarity"],
      "realismGate": { "minSsim": 0.5, "maxLpips": 0.4, "maxSeam": 1.2 },
      "dryRun": false
    }
    """;

    [Fact]
    public void Valid_request_is_read_with_every_field()
    {
        var r = AugmentationRequestValidator.Parse(Valid);
        Assert.Empty(r.Problems);
        var q = r.Request!;
        Assert.Equal("run-1", q.RunId);
        Assert.Equal("vindr-sample", q.Dataset);
        Assert.Equal(TaskMode.Replacement, q.Tasks[1].Mode);
        Assert.Equal(50, q.Tasks[1].Targets!["Mass"]);
        Assert.Equal(65, q.TotalItems);
        Assert.Equal(SchedulerKind.Dpmpp2m, q.Sampler!.Scheduler);
        Assert.Equal(3.5, q.Sampler.Guidance);
        Assert.Equal(OutputFormat.Dicom, q.Output!.Format);
        Assert.Equal([MetricKind.Ssim, MetricKind.Fid, MetricKind.EmbeddingSimilarity], q.Metrics);
        Assert.Equal(0.4, q.RealismGate!.MaxLpips);
        Assert.Equal(1.2, q.RealismGate.MaxSeam);
        Assert.Equal("mammo-tiny", q.ModelReference.Name);
        Assert.Equal("1.0.0", q.ModelReference.Version);
    }

    [Fact]
    public void Minimal_request_gets_defaults()
    {
        var r = AugmentationRequestValidator.Parse("""{"schemaVersion":1,"dataset":"d","tasks":[{"mode":"reinsertion","count":1}],"model":"/opt/models/x"}""");
        Assert.True(r.IsValid, string.Join("; ", r.Problems));
        Assert.Null(r.Request!.RunId);
        Assert.Equal(16, r.Request.ShardSize);
        Assert.False(r.Request.DryRun);
        Assert.Equal("/opt/models/x", r.Request.ModelReference.LocalPath);
    }

    [Fact]
    public void Round_trip_through_the_shared_options_keeps_the_document()
    {
        var first = AugmentationRequestValidator.Parse(Valid).Request!;
        string json = PipelineJson.Serialize(first);
        var second = AugmentationRequestValidator.Parse(json);
        Assert.True(second.IsValid, string.Join("; ", second.Problems));
        Assert.Equal(json, PipelineJson.Serialize(second.Request));
        Assert.Contains("\"mode\": \"replacement\"", json);
        Assert.Contains("\"scheduler\": \"dpmpp2m\"", json);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"dataset\": 'x'}")]
    [InlineData("not json")]
    public void Malformed_json_is_one_problem_at_the_root(string json)
    {
        var r = AugmentationRequestValidator.Parse(json);
        Assert.False(r.IsValid);
        var p = Assert.Single(r.Problems);
        Assert.Equal("$", p.Path);
        Assert.StartsWith("malformed JSON", p.Message);
    }

    [Fact]
    public void Every_problem_is_reported_at_once_with_its_path()
    {
        const string bad = """
        {
          "schemaVersion": 2,
          "runId": "Run_1",
          "dataset": "../etc",
          "tasks": [ { "mode": "paste", "count": 0 }, { "mode": "insertion", "targets": { "Mass": -1 } }, { "mode": "insertion" } ],
          "sampler": { "scheduler": "karras", "steps": 0, "guidance": "high" },
          "seed": -5,
          "shardSize": 5000,
          "metrics": ["ssim", "ssim", "bleu"],
          "realismGate": { "maxSeam": -1 },
          "colour": "red"
        }
        """;
        var r = AugmentationRequestValidator.Parse(bad);
        Assert.False(r.IsValid);
        var paths = r.Problems.Select(p => p.Path).ToList();
        string all = string.Join("\n", r.Problems);
        foreach (var expected in new[]
                 {
                     "$.schemaVersion", "$.runId", "$.dataset", "$.tasks[0].mode", "$.tasks[0].count",
                     "$.tasks[1].targets.Mass", "$.sampler.scheduler", "$.sampler.steps", "$.sampler.guidance",
                     "$.seed", "$.shardSize", "$.metrics[1]", "$.metrics[2]", "$.realismGate.maxSeam", "$.colour", "$.model",
                 })
            Assert.True(paths.Contains(expected), $"no problem at {expected}; got:\n{all}");
        Assert.Contains(r.Problems, p => p.Path == "$.model" && p.Message == "is required");
        Assert.Contains(r.Problems, p => p.Path == "$.colour" && p.Message == "is not a known property");
        Assert.Contains(r.Problems, p => p.Path == "$.sampler.guidance" && p.Message.Contains("must be a number"));
        Assert.Contains(r.Problems, p => p.Path == "$.tasks[0].mode" && p.Message.Contains("\"insertion\""));
    }

    [Fact]
    public void Rules_beyond_the_schema_are_checked_after_it()
    {
        const string json = """
        {"schemaVersion":1,"dataset":"d","model":"models/only-name",
         "tasks":[{"mode":"insertion"},{"mode":"insertion","count":3,"targets":{"Mass":1}},{"mode":"insertion","count":1000000}]}
        """;
        var r = AugmentationRequestValidator.Parse(json);
        Assert.False(r.IsValid);
        Assert.Contains(r.Problems, p => p.Path == "$.tasks[0]" && p.Message.Contains("either 'count' or 'targets'"));
        Assert.Contains(r.Problems, p => p.Path == "$.tasks[1]" && p.Message.Contains("more than one of 'count', 'targets' and 'edits'"));
        Assert.Contains(r.Problems, p => p.Path == "$.tasks" && p.Message.Contains("1000004"));
        Assert.Contains(r.Problems, p => p.Path == "$.model" && p.Message.Contains("models/{name}/{version}"));
    }

    [Fact]
    public void Rules_beyond_the_schema_are_reported_together_with_schema_problems()
    {
        var r = AugmentationRequestValidator.Parse("""{"schemaVersion":1,"dataset":"d","model":"models/x","tasks":[{"mode":"insertion","count":0,"targets":{"Mass":1}}]}""");
        Assert.Equal(["$.tasks[0].count", "$.tasks[0]", "$.model"], r.Problems.Select(p => p.Path));
    }

    [Theory]
    [InlineData("models/../x")]
    [InlineData("models/a/b/c")]
    [InlineData("models/a/..")]
    [InlineData("models/a")]
    public void Model_blob_references_cannot_escape_their_prefix(string model)
    {
        Assert.False(ModelReference.TryParse(model, out _, out var error));
        Assert.NotNull(error);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData(".hidden")]
    [InlineData("with space")]
    [InlineData("tab\tname")]
    public void Dataset_names_that_are_not_one_safe_segment_are_rejected(string name)
    {
        var r = AugmentationRequestValidator.Parse(JsonSerializer.Serialize(new { schemaVersion = 1, dataset = name, model = "m", tasks = new[] { new { mode = "insertion", count = 1 } } }));
        Assert.Contains(r.Problems, p => p.Path == "$.dataset");
    }

    [Fact]
    public void Class_names_with_slashes_or_control_characters_are_rejected()
    {
        var r = AugmentationRequestValidator.Parse("""{"schemaVersion":1,"dataset":"d","model":"m","tasks":[{"mode":"insertion","targets":{"a/b":1,"x\u0001":2,"":3}}]}""");
        Assert.Equal(3, r.Problems.Where(p => p.Message.StartsWith("property name")).Select(p => p.Path).Distinct().Count());
    }

    [Fact]
    public void Integral_numbers_written_with_a_fraction_point_are_integers()
    {
        var r = AugmentationRequestValidator.Parse("""{"schemaVersion":1.0,"dataset":"d","model":"m","tasks":[{"mode":"insertion","count":2.5}]}""");
        var p = Assert.Single(r.Problems);
        Assert.Equal("$.tasks[0].count", p.Path);
    }

    [Fact]
    public void A_request_built_in_code_is_validated_by_the_same_rules()
    {
        var request = new AugmentationRequest
        {
            Dataset = "d", Model = "models/m/1", Tasks = [new AugmentationTask { Mode = TaskMode.Insertion, Count = 0 }],
            Sampler = new SamplerSettings { Steps = 5000 },
        };
        var r = AugmentationRequestValidator.Validate(request);
        Assert.Equal(["$.tasks[0].count", "$.sampler.steps"], r.Problems.Select(p => p.Path));
    }
}
