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
using Pipeline.Metrics.Pixel;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;
using Xunit.Abstractions;

namespace Pipeline.EndToEnd.Tests;

/// <summary>DICOM, PNG (16-bit) and JPEG (8-bit) sources, each with output.format same, dicom and png: a derived DICOM or
/// a Secondary Capture (PNG/JPEG sources) with its SEG, a PNG of the source's depth, or a JPEG for JPEG "same".</summary>
public sealed class OutputFormatRunTests(RunFixture fixture, ITestOutputHelper log) : IClassFixture<RunFixture>
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
        (ImageBuffer? Image, string? ItemId) jpegSame = default, jpegPng = default;
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
                Assert.True(final.State == RunState.Completed, $"{c.RunId} ended {final.State}: {final.Error} {item.Error}");
                var output = (await storage.ReadAsync(BlobPath.Parse(item.Output!)))!.ToArray();
                var lineageBlob = $"runs/{c.RunId}/{RunBlobs.OutputLineage(item.ItemId)}";
                var lineage = (await storage.ReadJsonAsync<Lineage>(BlobPath.Parse(lineageBlob)))!.Value;
                Assert.False(string.IsNullOrEmpty(lineage.OutputEncoding), $"{c.RunId}: the lineage does not name the output encoding");
                Assert.True(await storage.ExistsAsync(storage.Run(c.RunId).Path(RunBlobs.Annotations)), $"{c.RunId}: no annotation file");
                if (c.Format == OutputFormat.Dicom || (!rasterSource && c.Format == OutputFormat.Same))
                {
                    Assert.EndsWith(".dcm", item.Output);
                    using var image = DicomImage.Read(output, item.Output!);
                    var segBytes = (await storage.ReadAsync(BlobPath.Parse(item.Output![..^4] + MammographyComposer.SegmentationSuffix)))!;
                    var seg = DicomSegmentation.Read(segBytes.ToMemory(), "seg");
                    Assert.Equal(image.Attributes.SopInstanceUid, seg.Frames[0].ReferencedSopInstanceUid);
                    if (rasterSource)
                    {
                        // a Secondary Capture of the composite in the source's samples, checked by dcmdump, pydicom and dciodvfy
                        Assert.Equal(SecondaryCaptureWriter.SopClassUid, image.File.Dataset.GetString(DicomTag.SOPClassUID));
                        Assert.Contains("Secondary Capture", lineage.OutputEncoding);
                        Assert.Equal(c.Dataset == "formats-jpeg" ? PixelType.UInt8 : PixelType.UInt16, image.Stored.PixelType);
                        await ExternalToolsAcceptAsync(output, segBytes.ToArray(), c.RunId);
                    }
                    continue;
                }
                if (c.Dataset == "formats-jpeg" && c.Format == OutputFormat.Same)
                {
                    Assert.EndsWith(".jpg", item.Output);
                    Assert.True(JpegCodec.IsJpeg(output));
                    Assert.Contains($"quality {MammographyComposer.JpegOutput.Quality}", lineage.OutputEncoding);
                    Assert.True(await storage.ExistsAsync(BlobPath.Parse(item.Output![..^4] + MammographyComposer.MaskSuffix)), $"{c.RunId}: no mask");
                    jpegSame = (JpegCodec.Decode(output, item.Output!), item.ItemId);
                    continue;
                }
                Assert.EndsWith(".png", item.Output);
                var outPng = PngCodec.Decode(output, item.Output!);
                if (c.Dataset == "formats-jpeg") jpegPng = (outPng, item.ItemId);
                var source = (await storage.ReadAsync(BlobPath.Parse(await PlannedTargetAsync(storage, c.RunId))))!;
                using var src = SourceImage.Decode(source.ToMemory(), "source");
                Assert.Equal((src.Width, src.Height), (outPng.Width, outPng.Height));
                // PNG keeps the source's bit depth: 16-bit PNG stays 16-bit, JPEG (8-bit) gives 8-bit, DICOM gives 16-bit.
                var expected = c.Dataset == "formats-jpeg" ? PixelType.UInt8 : PixelType.UInt16;
                Assert.Equal(expected, outPng.PixelType);
                using var mask = PngCodec.Decode((await storage.ReadAsync(BlobPath.Parse(item.Output![..^4] + MammographyComposer.MaskSuffix)))!.ToArray(), "mask");
                Assert.Equal((src.Width, src.Height), (mask.Width, mask.Height));
                Assert.Contains(mask.Pixels<byte>().ToArray(), v => v == 255);
                if (c.Dataset != "formats-jpeg") outPng.Dispose();
            }

            // What the JPEG output of "same" costs: the same request with format png gives the lossless composite of the
            // same item (same seed, same plan), so the difference is the re-encoding alone.
            Assert.NotNull(jpegSame.Image);
            Assert.NotNull(jpegPng.Image);
            Assert.Equal(jpegSame.ItemId, jpegPng.ItemId);
            using var lossy = jpegSame.Image.ToFloat32();
            using var lossless = jpegPng.Image.ToFloat32();
            var shape = new PlaneShape(lossy.Width, lossy.Height, lossy.Channels);
            double psnr = PixelError.Psnr(lossy.Pixels<float>(), lossless.Pixels<float>(), 255);
            double ssim = StructuralSimilarity.Compute(lossy.Pixels<float>(), lossless.Pixels<float>(), shape, new SsimOptions(255)).Whole;
            log.WriteLine($"JPEG output (quality {MammographyComposer.JpegOutput.Quality}, 4:4:4) vs the lossless composite: PSNR {psnr:0.00} dB, SSIM {ssim:0.0000}");
            Assert.True(psnr >= 40, $"PSNR {psnr:0.00} dB");
            Assert.True(ssim >= 0.98, $"SSIM {ssim:0.0000}");
        }
        finally
        {
            jpegSame.Image?.Dispose();
            jpegPng.Image?.Dispose();
            Directory.Delete(png, true);
            Directory.Delete(jpg, true);
        }
    }

    /// <summary>dcmdump +E, pydicom (pixels and the SEG's reference) and dciodvfy read the Secondary Capture and its SEG.</summary>
    private static async Task ExternalToolsAcceptAsync(byte[] image, byte[] seg, string runId)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"e2e-sc-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string imagePath = Path.Combine(dir, "image.dcm"), segPath = Path.Combine(dir, "image.seg.dcm");
            await File.WriteAllBytesAsync(imagePath, image);
            await File.WriteAllBytesAsync(segPath, seg);
            foreach (var path in new[] { imagePath, segPath })
            {
                var dump = ExternalTool.Run("dcmdump", "-dc", "+E", path);
                Assert.True(dump.Code == 0 && !dump.Out.Contains("W: ") && !dump.Out.Contains("E: ") && dump.Err.Trim().Length == 0, $"{runId}: dcmdump {path}: {dump.Err}");
                var iod = ExternalTool.Run("dciodvfy", path);
                Assert.False((iod.Out + iod.Err).Split('\n').Any(l => l.StartsWith("Error", StringComparison.Ordinal)), $"{runId}: dciodvfy {path}:\n{iod.Out}{iod.Err}");
            }
            var py = ExternalTool.Run("/usr/bin/python3", "-c", string.Join('\n',
                "import sys, pydicom",
                "im = pydicom.dcmread(sys.argv[1]); seg = pydicom.dcmread(sys.argv[2])",
                "assert im.SOPClassUID == '1.2.840.10008.5.1.4.1.1.7' and im.ConversionType == 'SYN'",
                "assert im.pixel_array.shape == (im.Rows, im.Columns)",
                "ref = seg.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID",
                "assert ref == im.SOPInstanceUID, ref",
                "assert seg.pixel_array.sum() > 0"), imagePath, segPath);
            Assert.True(py.Code == 0, $"{runId}: pydicom: {py.Err}");
        }
        finally { Directory.Delete(dir, true); }
    }

    private static async Task<string> PlannedTargetAsync(PipelineStorage storage, string runId)
    {
        var run = storage.Run(runId);
        var plan = (await run.ReadJsonAsync<RunPlan>(RunBlobs.Plan))!.Value;
        return (await RunResults.ReadPlannedItemsAsync(run, plan, CancellationToken.None))[0].TargetImage;
    }
}
