using Microsoft.Extensions.Options;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Host.Local;
using Pipeline.Host.Runs;
using Pipeline.Host.Runs.Metrics;
using Pipeline.Metrics.Distribution;
using Pipeline.Metrics.Features;
using Pipeline.Metrics.Gate;
using Pipeline.Metrics.Pixel;
using Pipeline.Metrics.Report;
using Pipeline.Storage;

namespace Pipeline.EndToEnd.Tests;

/// <summary>The run's learned metrics (LPIPS, embedding similarity, FD/KID) with the tiny stand-in feature networks.</summary>
public sealed class RunMetricsTests(RunFixture fixture) : IClassFixture<RunFixture>
{
    /// <summary>Model space [-1, 1] to display space [0, 1] (docs/preprocessing.md, "Values").</summary>
    // The run reports each set metric for the model and the copy&paste baseline, against the items' original patches and
    // against real lesions; the values recomputed here are the model's against the original patches.
    private static bool IsModelVsOriginals(SetMetricValue m) =>
        m.Method == Pipeline.Metrics.Report.ComparisonMethod.Model && m.Against == Pipeline.Metrics.Report.ComparisonMethod.AgainstOriginal;

    private static float[] Display(float[] model)
    {
        var d = new float[model.Length];
        Pipeline.Imaging.Preprocessing.ModelSpace.ToDisplay(model, d);
        return d;
    }

    private static string FeatureModel(string name) => Path.Combine(RunFixture.RepoRoot, "training", "feature_models", name);

    private static Dictionary<string, string?> Settings(bool withModels)
    {
        var s = new Dictionary<string, string?>
        {
            ["Pipeline:Triggers:DatasetDrop:PollInterval"] = "00:00:01",
            ["Pipeline:Engine:ClientPollInterval"] = "00:00:00.200",
            ["Pipeline:InferenceWorker:PollInterval"] = "00:00:00.200",
        };
        if (withModels)
        {
            s["Pipeline:Metrics:Features"] = FeatureModel("tiny-feat");
            s["Pipeline:Metrics:Lpips"] = FeatureModel("tiny-lpips");
            s["Pipeline:Metrics:Embedding"] = FeatureModel("tiny-embed");
            s["Pipeline:Metrics:MinSetSamples"] = "4"; // 6 items: the run scope is computed, the 2-item task groups are skipped
        }
        return s;
    }

    private static async Task<OrchestrationInstance> RunAsync(string connectionString, AugmentationRequest request, IReadOnlyDictionary<string, string?> settings)
    {
        await using var host = await LocalPipelineHost.StartAsync(connectionString, settings);
        return await HostRuns.SubmitAndWaitAsync(host, request, TimeSpan.FromMinutes(8), scheduleTimeout: TimeSpan.FromMinutes(2));
    }

    [Fact]
    public async Task With_the_tiny_feature_models_items_and_report_carry_LPIPS_embedding_FD_and_KID_under_their_names()
    {
        // A gate no item can pass on LPIPS: every measured item is flagged by the LPIPS key.
        var request = AugmentationRunTests.Request("metrics-on", seed: 5) with { RealismGate = new RealismGate { MaxLpips = 1e-12 } };
        var final = await RunAsync(fixture.Azurite.ConnectionString, request, Settings(withModels: true));
        Assert.True(final.State is RunState.Completed or RunState.CompletedWithFailures, $"run ended {final.State}: {final.Error}");

        var storage = new PipelineStorage(fixture.Azurite.ConnectionString);
        var run = storage.Run(request.RunId!);
        var plan = (await run.ReadJsonAsync<RunPlan>(RunBlobs.Plan))!.Value;
        var results = await RunResults.ReadItemsAsync(run, CancellationToken.None);
        var measured = results.Where(r => r.Outcome != ItemOutcome.Failed).ToList();
        Assert.True(measured.Count >= 4, $"only {measured.Count} items measured");

        using var lpips = FeatureNetwork.Open(FeatureModel("tiny-lpips"));
        using var embed = FeatureNetwork.Open(FeatureModel("tiny-embed"));
        using var feat = FeatureNetwork.Open(FeatureModel("tiny-feat"));
        var geometry = new Dictionary<string, CropGeometry>();
        foreach (var s in plan.Shards)
            foreach (var i in (await ShardDocuments.RequireManifestAsync(run, RunBlobs.ComposeShard(s.Index), CancellationToken.None)).Items)
                if (i.Geometry is not null) geometry[i.ItemId] = i.Geometry;

        var originals = new List<float>();
        var generated = new List<float>();
        foreach (var r in measured)
        {
            Assert.Equal(ItemOutcome.Flagged, r.Outcome);
            Assert.Contains(r.Flags, f => f.StartsWith("LPIPS[tiny-lpips]", StringComparison.Ordinal));
            Assert.DoesNotContain(r.Metrics.Keys, k => k.StartsWith("FID", StringComparison.Ordinal) || k == "lpips");
            // the texture measure of the full-resolution output and of the untouched source, measured by the composer
            Assert.InRange(r.Metrics["texture"], 0, 50);
            Assert.InRange(r.Metrics["untouched/texture"], 0, 50);
            // The stored values are the networks applied to the right images: original vs generated patch (LPIPS), generated
            // box region vs reference crop (embedding), in display space.
            var prep = TensorBundle.Parse((await run.ReadAsync(RunBlobs.PrepTensors(r.ItemId)))!.ToArray(), r.ItemId);
            var gen = TensorBundle.Parse((await run.ReadAsync(RunBlobs.GenTensors(r.ItemId)))!.ToArray(), r.ItemId);
            var g = geometry[r.ItemId];
            var shape = new PlaneShape(g.Resolution, g.Resolution);
            var o = new FeatureImage(Display(prep.Get(ModelTensorNames.Original, r.ItemId)), shape);
            // The run measures the composited patch (the generated crop blended into the original with the composite
            // alpha, in display space): what the output image shows.
            var od = Display(prep.Get(ModelTensorNames.Original, r.ItemId));
            var sd = Display(gen.Get(ModelTensorNames.Sample, r.ItemId));
            var alpha = prep.Get(ModelTensorNames.CompositeAlpha, r.ItemId);
            var composited = new float[od.Length];
            for (int i = 0; i < composited.Length; i++) composited[i] = od[i] + alpha[i] * (sd[i] - od[i]);
            var x = new FeatureImage(composited, shape);
            Assert.Equal(Lpips.Compute(lpips, o, x), r.Metrics["LPIPS[tiny-lpips]"], 9);
            Assert.True(r.Metrics["LPIPS[tiny-lpips]"] > 0);
            var reference = Display(prep.Get(ModelTensorNames.Reference, r.ItemId));
            int side = (int)Math.Sqrt(reference.Length);
            var box = ItemMeasurer.Crop(x, new PixelBox(g.BoxLeft, g.BoxTop, g.BoxWidth, g.BoxHeight), r.ItemId);
            double sim = EmbeddingSimilarity.Compute(embed, [box], [new FeatureImage(reference, new PlaneShape(side, side))])[0];
            Assert.Equal(sim, r.Metrics["CLIP-I[tiny-embed]"], 9);
            Assert.InRange(sim, -100, 100);

            var record = (await run.ReadJsonAsync<ItemFeatureRecord>(MetricsBlobs.ItemFeatures(r.ItemId)))!.Value;
            Assert.Equal("tiny-feat", record.FeatureModel!.Name);
            var f = feat.Extract([o, x]);
            Assert.Equal(f[..16], record.Original);
            Assert.Equal(f[16..], record.Result);
            originals.AddRange(record.Original!);
            generated.AddRange(record.Result!);
        }

        var report = RunReport.FromJson((await run.ReadAsync(RunBlobs.ReportJson))!.ToString());
        var fd = Assert.Single(report.SetMetrics, m => m.Metric == "FD[tiny-feat]" && m.Scope == "run" && IsModelVsOriginals(m));
        Assert.Equal(measured.Count, fd.SamplesA);
        var expected = FrechetDistance.Compute(originals.ToArray(), measured.Count, generated.ToArray(), measured.Count, 16);
        Assert.Equal(expected.Distance, fd.Value, 9);
        var kid = Assert.Single(report.SetMetrics, m => m.Metric == "KID[tiny-feat]" && m.Scope == "run" && IsModelVsOriginals(m));
        Assert.NotNull(kid.Std);
        Assert.DoesNotContain(report.SetMetrics, m => m.Metric.StartsWith("FID", StringComparison.Ordinal));
        // 2 items per task < MinSetSamples 4: each task group is skipped with the count, never computed on too few samples.
        foreach (var task in new[] { "insertion", "replacement", "reinsertion" })
        {
            Assert.DoesNotContain(report.SetMetrics, m => m.Scope == "task" && m.Group == task);
            Assert.Contains(report.Skipped, s => s.Metric == $"FD[tiny-feat] (task {task})" && s.Reason.Contains("fewer than 4 samples", StringComparison.Ordinal));
            Assert.Contains(report.Skipped, s => s.Metric == $"KID[tiny-feat] (task {task})");
        }
        Assert.DoesNotContain(report.Skipped, s => s.Metric is "LPIPS" or "FD" or "KID" or "CLIP-I");
        Assert.Contains(report.Definitions, d => d.Name == "LPIPS[tiny-lpips]" && d.Version.Contains("sha256:", StringComparison.Ordinal));
        Assert.Contains(report.Definitions, d => d.Name == "CLIP-I[tiny-embed]");
        Assert.Contains(report.Definitions, d => d.Name == "FD[tiny-feat]");
        Assert.Contains(report.Definitions, d => d.Name == "KID[tiny-feat]");
        var entry = report.Items.First(i => i.Succeeded);
        Assert.Contains(entry.Metrics, m => m.Metric == "LPIPS[tiny-lpips]" && m.Region == "patch" && m.Value is not null);
        Assert.Contains(entry.Metrics, m => m.Metric == "CLIP-I[tiny-embed]" && m.Region == "box" && m.Value is not null);

        var csv = (await run.ReadAsync(RunBlobs.Annotations))!.ToString();
        var header = Csv.SplitRow(csv.Split('\n')[0]);
        Assert.Contains("metric_LPIPS[tiny-lpips]", header);
        Assert.Contains("metric_CLIP-I[tiny-embed]", header);
    }

    [Fact]
    public async Task Without_configured_feature_models_the_report_lists_every_learned_metric_as_skipped()
    {
        var request = AugmentationRunTests.Request("metrics-off", seed: 5) with
        {
            Tasks = [new AugmentationTask { Mode = TaskMode.Reinsertion, Count = 2 }],
            RealismGate = new RealismGate { MaxLpips = 1e-12, MinEmbeddingSimilarity = 0.999 },
        };
        var final = await RunAsync(fixture.Azurite.ConnectionString, request, Settings(withModels: false));
        Assert.True(final.State is RunState.Completed or RunState.CompletedWithFailures, $"run ended {final.State}: {final.Error}");
        var run = new PipelineStorage(fixture.Azurite.ConnectionString).Run(request.RunId!);
        var results = await RunResults.ReadItemsAsync(run, CancellationToken.None);
        Assert.Contains(results, r => r.Outcome == ItemOutcome.Succeeded); // the unmeasurable gates flag nothing
        Assert.All(results, r => Assert.DoesNotContain(r.Metrics.Keys, k => k.Contains('[', StringComparison.Ordinal)));

        var report = RunReport.FromJson((await run.ReadAsync(RunBlobs.ReportJson))!.ToString());
        Assert.Empty(report.SetMetrics);
        foreach (var (metric, key) in new[] { ("FD", "Features"), ("KID", "Features"), ("LPIPS", "Lpips"), ("CLIP-I", "Embedding") })
        {
            var s = Assert.Single(report.Skipped, s => s.Metric == metric);
            Assert.StartsWith("not configured", s.Reason, StringComparison.Ordinal);
            Assert.Contains($"Pipeline:Metrics:{key}", s.Reason, StringComparison.Ordinal);
        }
        Assert.Contains(report.Skipped, s => s.Metric == "realismGate.maxLpips");
        Assert.Contains(report.Skipped, s => s.Metric == "realismGate.minEmbeddingSimilarity");
    }

    [Fact]
    public async Task The_request_metrics_list_limits_the_run_to_what_it_names()
    {
        var request = AugmentationRunTests.Request("metrics-lpips-only", seed: 9) with
        {
            Tasks = [new AugmentationTask { Mode = TaskMode.Reinsertion, Count = 2 }],
            Metrics = [MetricKind.Ssim, MetricKind.Lpips],
        };
        var final = await RunAsync(fixture.Azurite.ConnectionString, request, Settings(withModels: true));
        Assert.True(final.State is RunState.Completed or RunState.CompletedWithFailures, $"run ended {final.State}: {final.Error}");
        var run = new PipelineStorage(fixture.Azurite.ConnectionString).Run(request.RunId!);
        var measured = (await RunResults.ReadItemsAsync(run, CancellationToken.None)).Where(r => r.Outcome != ItemOutcome.Failed).ToList();
        Assert.NotEmpty(measured);
        foreach (var r in measured)
        {
            Assert.Contains("LPIPS[tiny-lpips]", r.Metrics.Keys);
            Assert.DoesNotContain(r.Metrics.Keys, MetricKeys.IsEmbedding);
            var record = (await run.ReadJsonAsync<ItemFeatureRecord>(MetricsBlobs.ItemFeatures(r.ItemId)))!.Value;
            Assert.Null(record.FeatureModel);
            Assert.Null(record.Original);
        }
        var report = RunReport.FromJson((await run.ReadAsync(RunBlobs.ReportJson))!.ToString());
        Assert.Empty(report.SetMetrics);
        foreach (var metric in new[] { "FD", "KID", "CLIP-I" })
            Assert.StartsWith("not requested", Assert.Single(report.Skipped, s => s.Metric == metric).Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(report.Skipped, s => s.Metric == "LPIPS");
    }

    [Fact]
    public void The_request_list_selects_among_the_configured_networks_and_names_the_rest()
    {
        var all = RunMetricSelection.Resolve(null, hasFeatures: true, hasLpips: true, hasEmbedding: true);
        Assert.True(all.Fd && all.Kid && all.Lpips && all.Embedding);
        Assert.Empty(all.Skipped);

        var some = RunMetricSelection.Resolve([MetricKind.Lpips, MetricKind.Kid], hasFeatures: true, hasLpips: false, hasEmbedding: true, "DINOv2");
        Assert.False(some.Fd);
        Assert.True(some.Kid);
        Assert.True(some.SetFeatures);
        Assert.False(some.Lpips);
        Assert.False(some.Embedding);
        Assert.StartsWith("not requested", Assert.Single(some.Skipped, s => s.Metric == "FD").Reason, StringComparison.Ordinal);
        Assert.StartsWith("not configured: the request asks", Assert.Single(some.Skipped, s => s.Metric == "LPIPS").Reason, StringComparison.Ordinal);
        Assert.StartsWith("not requested", Assert.Single(some.Skipped, s => s.Metric == "DINOv2").Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Set_metrics_cover_the_run_and_groups_with_enough_samples_and_skip_the_others()
    {
        var model = FeatureModelDescriptor.Load(FeatureModel("tiny-feat"));
        var rng = new Random(3);
        float[] Vec(double shift) => Enumerable.Range(0, 16).Select(_ => (float)(rng.NextDouble() + shift)).ToArray();
        var records = Enumerable.Range(0, 7).Select(i => new ItemFeatureRecord
        {
            ItemId = $"i{i}", Class = i < 5 ? "Mass" : "Calcification", Task = "insertion", FeatureModel = model, Original = Vec(0), Result = Vec(0.5),
        }).ToList();
        var selection = RunMetricSelection.Resolve([MetricKind.Fid, MetricKind.Kid], true, false, false);
        var sets = FeatureMetrics.ComputeSets(records, selection, new RunMetricsOptions { MinSetSamples = 5, KidSubsetSize = 4, KidSubsetCount = 10 }, seed: 1);

        Assert.Equal(["run", "class Mass", "task insertion"], sets.Values.Where(v => v.Metric == "FD[tiny-feat]").Select(v => v.Group is null ? v.Scope : $"{v.Scope} {v.Group}"));
        var kid = Assert.Single(sets.Values, v => v.Metric == "KID[tiny-feat]" && v.Scope == "run");
        var direct = KernelInceptionDistance.Compute(records.SelectMany(r => r.Original!).ToArray(), 7, records.SelectMany(r => r.Result!).ToArray(), 7, 16,
            new KidOptions { SubsetSize = 4, SubsetCount = 10, Seed = 1 });
        Assert.Equal(direct.Mean, kid.Value, 12);
        Assert.Equal(direct.Std, kid.Std!.Value, 12);
        Assert.True(kid.Value > 0, "shifted features must be far apart");
        Assert.Contains(sets.Skipped, s => s.Metric == "FD[tiny-feat] (class Calcification)" && s.Reason.Contains("fewer than 5 samples (2", StringComparison.Ordinal));
        Assert.Contains(sets.Definitions, d => d.Name == "KID[tiny-feat]" && d.Version.Contains("subsets=10x4", StringComparison.Ordinal));
    }

    [Fact]
    public void A_folder_of_the_wrong_kind_or_without_a_model_fails_with_the_setting_named()
    {
        using var wrongKind = new RunFeatureNetworks(Options.Create(new RunMetricsOptions { Lpips = FeatureModel("tiny-feat") }));
        Assert.True(wrongKind.HasLpips);
        var e = Assert.Throws<InvalidOperationException>(() => wrongKind.Lpips);
        Assert.Contains("Pipeline:Metrics:Lpips", e.Message, StringComparison.Ordinal);
        Assert.Contains("kind lpips", e.Message, StringComparison.Ordinal);

        using var missing = new RunFeatureNetworks(Options.Create(new RunMetricsOptions { Features = Path.Combine(Path.GetTempPath(), "no-such-feature-model") }));
        var m = Assert.Throws<InvalidOperationException>(() => missing.Features);
        Assert.Contains("Pipeline:Metrics:Features", m.Message, StringComparison.Ordinal);
        Assert.Contains("feature-model.json", m.Message, StringComparison.Ordinal);

        using var none = new RunFeatureNetworks(Options.Create(new RunMetricsOptions()));
        Assert.False(none.HasFeatures || none.HasLpips || none.HasEmbedding);
        Assert.Null(none.Features);
    }
}
