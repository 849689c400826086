using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host.Local;
using Pipeline.Host.Runs;
using Pipeline.Imaging.Dicom;
using Pipeline.Metrics.Report;
using Pipeline.Storage;
using Pipeline.Storage.Azurite;
using Pipeline.Storage.Blobs;

namespace Pipeline.EndToEnd.Tests;

public sealed class AugmentationRunTests(RunFixture fixture) : IClassFixture<RunFixture>
{
    private static readonly IReadOnlyDictionary<string, string?> FastSettings = new Dictionary<string, string?>
    {
        ["Pipeline:Triggers:DatasetDrop:PollInterval"] = "00:00:01",
        ["Pipeline:Engine:ClientPollInterval"] = "00:00:00.200",
        ["Pipeline:InferenceWorker:PollInterval"] = "00:00:00.200",
    };

    public static AugmentationRequest Request(string runId, long seed, string? model = null, string dataset = RunFixture.Dataset) => new()
    {
        RunId = runId, Dataset = dataset, Model = model ?? RunFixture.TestModel, Seed = seed, ShardSize = 3,
        Tasks =
        [
            new AugmentationTask { Mode = TaskMode.Insertion, Count = 2 },
            new AugmentationTask { Mode = TaskMode.Replacement, Count = 2 },
            new AugmentationTask { Mode = TaskMode.Reinsertion, Count = 2 },
        ],
        Sampler = new SamplerSettings { Scheduler = SchedulerKind.Ddim, Steps = 3, Guidance = 2.0 },
    };

    private static async Task<OrchestrationInstance> RunAsync(string connectionString, AugmentationRequest request)
    {
        await using var host = await LocalPipelineHost.StartAsync(connectionString, FastSettings);
        return await HostRuns.SubmitAndWaitAsync(host, request, TimeSpan.FromMinutes(15));
    }

    [Fact]
    public async Task Every_planned_item_ends_as_an_output_or_a_recorded_failure_and_outputs_change_only_the_box()
    {
        var request = Request("e2e-full", seed: 11);
        var final = await RunAsync(fixture.Azurite.ConnectionString, request);
        Assert.True(final.State is RunState.Completed or RunState.CompletedWithFailures, $"run ended {final.State}: {final.Error}");

        var storage = new PipelineStorage(fixture.Azurite.ConnectionString);
        var run = storage.Run(request.RunId!);
        var plan = (await run.ReadJsonAsync<RunPlan>(RunBlobs.Plan))!.Value;
        var planned = await RunResults.ReadPlannedItemsAsync(run, plan, CancellationToken.None);
        var results = (await RunResults.ReadItemsAsync(run, CancellationToken.None)).ToDictionary(r => r.ItemId);
        Assert.NotEmpty(planned);
        Assert.Equal(planned.Select(p => p.ItemId).Order(), results.Keys.Order());
        Assert.Contains(results.Values, r => r.Outcome == ItemOutcome.Succeeded);

        foreach (var item in planned)
        {
            var r = results[item.ItemId];
            if (r.Outcome == ItemOutcome.Failed) { Assert.False(string.IsNullOrWhiteSpace(r.Error)); continue; }
            var output = (await storage.ReadAsync(BlobPath.Parse(r.Output!)))!;
            var source = (await storage.ReadAsync(BlobPath.Parse(item.TargetImage)))!;
            using var outImage = DicomImage.Read(output.ToMemory(), r.Output!);
            using var srcImage = DicomImage.Read(source.ToMemory(), item.TargetImage);
            Assert.Equal(srcImage.Stored.PixelType, outImage.Stored.PixelType);
            var a = srcImage.Stored.Pixels<ushort>();
            var b = outImage.Stored.Pixels<ushort>();
            int w = srcImage.Stored.Width, changedInside = 0;
            var box = item.TargetBox;
            const int margin = 5;
            for (int i = 0; i < a.Length; i++)
            {
                if (a[i] == b[i]) continue;
                int x = i % w, y = i / w;
                bool inside = x >= Math.Floor(box.X0) - margin - 1 && x < Math.Ceiling(box.X1) + margin + 1 &&
                              y >= Math.Floor(box.Y0) - margin - 1 && y < Math.Ceiling(box.Y1) + margin + 1;
                Assert.True(inside, $"{item.ItemId}: pixel ({x},{y}) changed outside box {box} + margin");
                changedInside++;
            }
            Assert.True(changedInside > 0, $"{item.ItemId}: nothing changed inside the box");
            var lineage = DerivedImageWriter.ReadLineage(outImage.File);
            Assert.NotNull(lineage);
            Assert.Equal(item.ItemId, lineage!.ItemId);
            Assert.Equal(item.Seed, lineage.Seed);
            Assert.Equal(plan.ModelSha256, lineage.Model.Sha256);
            Assert.NotEqual(srcImage.Attributes.SopInstanceUid, outImage.Attributes.SopInstanceUid);

            // The lesion's Segmentation beside the derived image: read back by the pipeline, by pydicom and by dcmtk.
            string segBlob = r.Output![..^".dcm".Length] + Pipeline.Mammography.MammographyComposer.SegmentationSuffix;
            var segBytes = (await storage.ReadAsync(BlobPath.Parse(segBlob)))?.ToArray();
            Assert.True(segBytes != null, $"{item.ItemId}: no Segmentation at {segBlob}");
            var seg = DicomSegmentation.Read(segBytes, segBlob);
            var frame = Assert.Single(seg.Frames);
            Assert.Equal(outImage.Attributes.SopInstanceUid, frame.ReferencedSopInstanceUid);
            Assert.Equal(item.ClassName, Assert.Single(seg.Segments).Label);
            Assert.Equal(item.ItemId, DerivedImageWriter.ReadLineage(seg.File)!.ItemId);
            var segBox = frame.BoundingBox(seg.Columns);
            Assert.NotNull(segBox);
            Assert.True(segBox![0] >= Math.Floor(box.X0) && segBox[1] >= Math.Floor(box.Y0) && segBox[2] <= Math.Ceiling(box.X1) && segBox[3] <= Math.Ceiling(box.Y1),
                $"{item.ItemId}: mask box [{string.Join(", ", segBox)}] leaves the target box {box}");
            var segFile = Path.Combine(Path.GetTempPath(), $"e2e-{item.ItemId}-{Guid.NewGuid():N}.seg.dcm");
            await File.WriteAllBytesAsync(segFile, segBytes);
            try
            {
                var dump = ExternalTool.Run("dcmdump", "-dc", "+E", segFile);
                Assert.True(dump.Code == 0 && dump.Err.Trim().Length == 0 && !dump.Out.Contains("W: ") && !dump.Out.Contains("E: "), $"dcmdump: {dump.Err}");
                var py = ExternalTool.Run("/usr/bin/python3", "-c", "import sys, pydicom; a = pydicom.dcmread(sys.argv[1]).pixel_array; print(int(a.sum()), a.shape[0], a.shape[1])", segFile);
                Assert.True(py.Code == 0, py.Err);
                Assert.Equal($"{frame.Mask.Sum(v => v)} {seg.Rows} {seg.Columns}", py.Out.Trim());
            }
            finally { File.Delete(segFile); }
        }

        // The annotation file: one row per kept item, every output blob exists.
        var csv = (await run.ReadAsync(RunBlobs.Annotations))!.ToString();
        var rows = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = Csv.SplitRow(rows[0]);
        int outCol = header.IndexOf("output_blob");
        Assert.Equal(results.Values.Count(r => r.Outcome is ItemOutcome.Succeeded or ItemOutcome.Flagged), rows.Length - 1);
        foreach (var row in rows.Skip(1))
        {
            var f = Csv.SplitRow(row);
            Assert.Equal(header.Count, f.Count);
            Assert.True(await storage.ExistsAsync(BlobPath.Parse(f[outCol])), $"annotation row references missing {f[outCol]}");
        }

        // report.json matches the outputs
        var report = RunReport.FromJson((await run.ReadAsync(RunBlobs.ReportJson))!.ToString());
        Assert.Equal(planned.Count, report.Summary.Items);
        Assert.Equal(results.Values.Count(r => r.Outcome == ItemOutcome.Failed), report.Summary.Failed);
        Assert.True(await storage.ExistsAsync(run.Path(RunBlobs.ReportHtml)));

        // nothing was written under datasets/ except the index
        await foreach (var e in storage.ListAsync(StorageLayout.DatasetsContainer, RunFixture.Dataset + "/"))
            Assert.True(File.Exists(Path.Combine(fixture.DatasetFolder, e.Path.Name[(RunFixture.Dataset.Length + 1)..])) || e.Path.Name.EndsWith(DatasetIndex.BlobName),
                $"unexpected blob under datasets/: {e.Path}");
    }

    [Fact]
    public async Task A_request_sent_right_after_the_upload_waits_for_ingestion_and_runs()
    {
        using var azurite = await AzuriteServer.StartAsync();
        var storage = new PipelineStorage(azurite.ConnectionString);
        await storage.EnsureCreatedAsync();
        var dataset = storage.Dataset("fresh");
        foreach (var file in Directory.EnumerateFiles(fixture.DatasetFolder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            await using var s = File.OpenRead(file);
            await dataset.UploadAsync(Path.GetRelativePath(fixture.DatasetFolder, file).Replace('\\', '/'), s);
        }
        Assert.Null(await dataset.ReadIndexAsync(CancellationToken.None)); // uploaded, not ingested
        var request = Request("e2e-fresh", seed: 4, dataset: "fresh") with { Tasks = [new AugmentationTask { Mode = TaskMode.Reinsertion, Count = 1 }] };
        // The blob-drop trigger waits out a long quiet period, so only the run itself can ingest in time.
        await using var host = await LocalPipelineHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>(FastSettings)
        {
            ["Pipeline:Triggers:DatasetDrop:Debounce"] = "00:10:00",
        });
        var final = await HostRuns.SubmitAndWaitAsync(host, request, TimeSpan.FromMinutes(15));
        Assert.True(final.State is RunState.Completed or RunState.CompletedWithFailures, $"run ended {final.State}: {final.Error}");
        Assert.NotNull(await dataset.ReadIndexAsync(CancellationToken.None));
        Assert.Contains(await RunResults.ReadItemsAsync(storage.Run(request.RunId!), CancellationToken.None), r => r.Outcome == ItemOutcome.Succeeded);
    }

    [Fact]
    public async Task The_same_request_gives_byte_identical_outputs_and_another_seed_different_ones()
    {
        async Task<Dictionary<string, string>> OutputsAsync(long seed)
        {
            using var azurite = await AzuriteServer.StartAsync();
            await RunFixture.UploadAsync(azurite.ConnectionString, fixture.DatasetFolder, RunFixture.Dataset);
            var request = Request("e2e-same", seed) with { Tasks = [new AugmentationTask { Mode = TaskMode.Reinsertion, Count = 2 }, new AugmentationTask { Mode = TaskMode.Insertion, Count = 1 }] };
            var final = await RunAsync(azurite.ConnectionString, request);
            Assert.True(final.State is RunState.Completed, $"run ended {final.State}: {final.Error}");
            var storage = new PipelineStorage(azurite.ConnectionString);
            var hashes = new Dictionary<string, string>();
            await foreach (var e in storage.Run(request.RunId!).ListAsync("out/"))
                hashes[e.Path.Name] = (await storage.GetSha256Async(e.Path))!.Value.Sha256;
            return hashes;
        }
        var first = await OutputsAsync(5);
        var second = await OutputsAsync(5);
        var other = await OutputsAsync(6);
        Assert.Equal(first.OrderBy(p => p.Key), second.OrderBy(p => p.Key));
        Assert.Contains(first, p => p.Key.EndsWith(".dcm"));
        Assert.NotEqual(first.Where(p => p.Key.EndsWith(".dcm")).Select(p => p.Value), other.Where(p => p.Key.EndsWith(".dcm")).Select(p => p.Value));
    }

    [Theory]
    [InlineData("missing-dataset", "dataset 'nope' not found")]
    [InlineData("missing-model", "model '")]
    [InlineData("impossible-class", "class 'Unicorn' has no annotated lesion")]
    public async Task Impossible_requests_are_rejected_with_a_clear_status_and_nothing_generated(string runId, string expected)
    {
        var request = Request("e2e-" + runId, seed: 1);
        request = runId switch
        {
            "missing-dataset" => request with { Dataset = "nope" },
            "missing-model" => request with { Model = Path.Combine(Path.GetTempPath(), "no-such-model-" + Guid.NewGuid().ToString("N")) },
            _ => request with { Tasks = [new AugmentationTask { Mode = TaskMode.Reinsertion, Targets = new Dictionary<string, int> { ["Unicorn"] = 3 } }] },
        };
        var final = await RunAsync(fixture.Azurite.ConnectionString, request);
        Assert.Equal(RunState.Rejected, final.State);
        Assert.Contains(expected, final.Error);
        var storage = new PipelineStorage(fixture.Azurite.ConnectionString);
        var status = await storage.Run(request.RunId!).ReadStatusAsync();
        Assert.Equal(RunState.Rejected, status!.State);
        await foreach (var e in storage.Run(request.RunId!).ListAsync("out/")) Assert.Fail($"rejected run wrote {e.Path}");
        await foreach (var e in storage.Run(request.RunId!).ListAsync("gen/")) Assert.Fail($"rejected run wrote {e.Path}");
    }

    [Fact]
    public async Task A_dry_run_writes_the_plan_and_an_estimate_without_generating()
    {
        var request = Request("e2e-dry", seed: 3) with { DryRun = true };
        var final = await RunAsync(fixture.Azurite.ConnectionString, request);
        Assert.Equal(RunState.Completed, final.State);
        var summary = final.ReadOutput<Pipeline.Core.Runs.RunSummary>()!;
        Assert.NotNull(summary.Estimate);
        Assert.True(summary.Estimate!.DenoiserCalls > 0 && summary.Estimate.EstimatedSeconds > 0);
        var storage = new PipelineStorage(fixture.Azurite.ConnectionString);
        var run = storage.Run(request.RunId!);
        Assert.True(await storage.ExistsAsync(run.Path(RunBlobs.Plan)));
        Assert.True(await storage.ExistsAsync(run.Path(RunBlobs.Estimate)));
        await foreach (var e in run.ListAsync("gen/")) Assert.Fail($"dry run wrote {e.Path}");
    }
}

/// <summary>Splits one CSV row (RFC 4180 quoting), for checking the annotation file the run writes.</summary>
internal static class Csv
{
    public static List<string> SplitRow(string line)
    {
        var fields = new List<string>();
        var sb = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else sb.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { fields.Add(sb.ToString()); sb.Clear(); }
            else if (ch != '\r') sb.Append(ch);
        }
        fields.Add(sb.ToString());
        return fields;
    }
}

/// <summary>Runs a Debian tool (dcmdump, python3) on a file the run wrote.</summary>
internal static class ExternalTool
{
    public static (int Code, string Out, string Err) Run(string tool, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000)) { p.Kill(true); throw new TimeoutException($"{tool} did not finish in 60 s"); }
        return (p.ExitCode, o.Result, e.Result);
    }
}
