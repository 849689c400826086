using System.Globalization;
using System.Text;
using Pipeline.Core.Contracts;
using Pipeline.Core.Runs;
using Pipeline.Host.Local;
using Pipeline.Host.Runs;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;
using Pipeline.Imaging.Dicom;
using Pipeline.Mammography;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;

namespace Pipeline.EndToEnd.Tests;

/// <summary>DICOM, PNG (16-bit) and JPEG (8-bit) sources, each with output.format same, dicom and png.</summary>
public sealed class OutputFormatRunTests(RunFixture fixture) : IClassFixture<RunFixture>
{
    /// <summary>The fixture's DICOMs as PNG (stored values, 16-bit) or JPEG (8-bit display rendering) with annotations.csv.</summary>
    private static string WriteRasterDataset(string vindrFolder, bool jpeg)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"e2e-{(jpeg ? "jpeg" : "png")}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(dir, "images"));
        var rows = File.ReadAllLines(Path.Combine(vindrFolder, "finding_annotations.csv"));
        var h = rows[0].Split(',').Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
        var csv = new StringBuilder("file,width,height,class,x0,y0,x1,y1\n");
        var written = new HashSet<string>();
        foreach (var line in rows.Skip(1))
        {
            var f = System.Text.RegularExpressions.Regex.Split(line, ",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)").Select(s => s.Trim('"')).ToArray();
            string study = f[h["study_id"]], image = f[h["image_id"]];
            string file = $"images/{image}{(jpeg ? ".jpg" : ".png")}";
            if (written.Add(file))
            {
                using var dicom = DicomImage.Open(Path.Combine(vindrFolder, "images", study, image + ".dicom"));
                if (jpeg)
                {
                    using var display = DicomRenderer.Render(dicom);
                    using var q = DicomRenderer.Quantise(display, 8);
                    File.WriteAllBytes(Path.Combine(dir, file), JpegCodec.Encode(q, new JpegEncodeOptions { Quality = 95 }));
                }
                else File.WriteAllBytes(Path.Combine(dir, file), PngCodec.Encode(dicom.Stored));
            }
            string cls = f[h["xmin"]].Length == 0 ? "" : DatasetCategory(f[h["finding_categories"]]);
            csv.Append(CultureInfo.InvariantCulture, $"{file},{f[h["width"]]},{f[h["height"]]},{cls},{f[h["xmin"]]},{f[h["ymin"]]},{f[h["xmax"]]},{f[h["ymax"]]}\n");
        }
        File.WriteAllText(Path.Combine(dir, "annotations.csv"), csv.ToString());
        return dir;
    }

    private static string DatasetCategory(string pythonList) => pythonList.Trim('[', ']').Split(',')[0].Trim().Trim('\'');

    [Fact]
    public async Task Png_jpeg_and_dicom_sources_are_augmented_in_every_output_format()
    {
        var png = WriteRasterDataset(fixture.DatasetFolder, jpeg: false);
        var jpg = WriteRasterDataset(fixture.DatasetFolder, jpeg: true);
        try
        {
            await RunFixture.UploadAsync(fixture.Azurite.ConnectionString, png, "formats-png");
            await RunFixture.UploadAsync(fixture.Azurite.ConnectionString, jpg, "formats-jpeg");
            var storage = new PipelineStorage(fixture.Azurite.ConnectionString);
            foreach (var ds in new[] { "formats-png", "formats-jpeg" })
                Assert.Empty((await storage.Dataset(ds).ReadIndexAsync(CancellationToken.None))!.Problems);

            var cases = (from ds in new[] { RunFixture.Dataset, "formats-png", "formats-jpeg" }
                         from format in new[] { OutputFormat.Same, OutputFormat.Dicom, OutputFormat.Png }
                         select (Dataset: ds, Format: format, RunId: $"e2e-fmt-{ds.Replace("formats-", "")}-{format.ToString().ToLowerInvariant()}")).ToList();
            await using var host = await LocalPipelineHost.StartAsync(fixture.Azurite.ConnectionString, new Dictionary<string, string?>
            {
                ["Pipeline:Triggers:DatasetDrop:PollInterval"] = "00:00:01", ["Pipeline:Engine:PollInterval"] = "00:00:00.200",
                ["Pipeline:InferenceWorker:PollInterval"] = "00:00:00.200",
            });
            foreach (var c in cases)
                await host.SubmitAsync(AugmentationRunTests.Request(c.RunId, seed: 3, dataset: c.Dataset) with
                {
                    Tasks = [new AugmentationTask { Mode = TaskMode.Reinsertion, Count = 1 }],
                    Sampler = new SamplerSettings { Scheduler = SchedulerKind.Ddim, Steps = 2, Guidance = 1.0 },
                    Output = new OutputOptions { Format = c.Format },
                });
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(15));
            foreach (var c in cases)
            {
                while (await host.Orchestrations.GetInstanceAsync(c.RunId, cts.Token) is null) await Task.Delay(200, cts.Token);
                var final = await host.Orchestrations.WaitForCompletionAsync(c.RunId, cts.Token);
                var results = await RunResults.ReadItemsAsync(storage.Run(c.RunId), CancellationToken.None);
                var item = Assert.Single(results);
                bool rasterSource = c.Dataset != RunFixture.Dataset;
                if (rasterSource && c.Format == OutputFormat.Dicom)
                {
                    // No patient or study to derive a DICOM from: the item fails with the reason (its only item, so the run fails).
                    Assert.True(final.State is RunState.Failed or RunState.CompletedWithFailures, $"{c.RunId} ended {final.State}");
                    Assert.Contains("output format 'dicom' needs DICOM sources", item.Error);
                    continue;
                }
                Assert.True(final.State == RunState.Completed, $"{c.RunId} ended {final.State}: {final.Error} {item.Error}");
                var output = (await storage.ReadAsync(BlobPath.Parse(item.Output!)))!.ToArray();
                var lineageBlob = $"runs/{c.RunId}/{RunBlobs.OutputLineage(item.ItemId)}";
                Assert.True(await storage.ExistsAsync(BlobPath.Parse(lineageBlob)), $"{c.RunId}: no lineage");
                Assert.True(await storage.ExistsAsync(storage.Run(c.RunId).Path(RunBlobs.Annotations)), $"{c.RunId}: no annotation file");
                bool dicomOut = !rasterSource && c.Format != OutputFormat.Png;
                if (dicomOut)
                {
                    Assert.EndsWith(".dcm", item.Output);
                    using var image = DicomImage.Read(output, item.Output!);
                    var seg = DicomSegmentation.Read((await storage.ReadAsync(BlobPath.Parse(item.Output![..^4] + MammographyComposer.SegmentationSuffix)))!.ToMemory(), "seg");
                    Assert.Equal(image.Attributes.SopInstanceUid, seg.Frames[0].ReferencedSopInstanceUid);
                    continue;
                }
                Assert.EndsWith(".png", item.Output);
                using var outPng = PngCodec.Decode(output, item.Output!);
                var source = (await storage.ReadAsync(BlobPath.Parse(await PlannedTargetAsync(storage, c.RunId))))!;
                using var src = SourceImage.Decode(source.ToMemory(), "source");
                Assert.Equal((src.Width, src.Height), (outPng.Width, outPng.Height));
                // PNG keeps the source's bit depth: 16-bit PNG stays 16-bit, JPEG (8-bit) gives 8-bit, DICOM gives 16-bit.
                var expected = c.Dataset == "formats-jpeg" ? PixelType.UInt8 : PixelType.UInt16;
                Assert.Equal(expected, outPng.PixelType);
                using var mask = PngCodec.Decode((await storage.ReadAsync(BlobPath.Parse(item.Output![..^4] + MammographyComposer.MaskSuffix)))!.ToArray(), "mask");
                Assert.Equal((src.Width, src.Height), (mask.Width, mask.Height));
                Assert.Contains(mask.Pixels<byte>().ToArray(), v => v == 255);
            }
        }
        finally
        {
            Directory.Delete(png, true);
            Directory.Delete(jpg, true);
        }
    }

    private static async Task<string> PlannedTargetAsync(PipelineStorage storage, string runId)
    {
        var run = storage.Run(runId);
        var plan = (await run.ReadJsonAsync<RunPlan>(RunBlobs.Plan))!.Value;
        return (await RunResults.ReadPlannedItemsAsync(run, plan, CancellationToken.None))[0].TargetImage;
    }
}
