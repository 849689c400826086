using System.Text;
using Pipeline.Core.Contracts;
using Pipeline.Core.Runs;
using Pipeline.Host.Local;
using Pipeline.Host.Runs;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;
using Pipeline.Imaging.Dicom;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;

namespace Pipeline.EndToEnd.Tests;

/// <summary>A dataset in CBIS-DDSM's layout (case description CSVs, ROI mask images) is ingested and augmented.</summary>
public sealed class CbisDdsmRunTests(RunFixture fixture) : IClassFixture<RunFixture>
{
    /// <summary>The fixture's synthetic VinDr dataset rewritten in CBIS-DDSM's layout: the same DICOMs under
    /// CBIS-style folders, one ROI mask PNG per finding (an ellipse inside the box), mass/calc description CSVs.</summary>
    private static string WriteCbisLayout(string vindrFolder)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"e2e-cbis-{Guid.NewGuid():N}");
        var rows = File.ReadAllLines(Path.Combine(vindrFolder, "finding_annotations.csv"));
        var header = rows[0].Split(',').Select((h, i) => (h, i)).ToDictionary(p => p.h, p => p.i);
        var mass = new StringBuilder("patient_id,breast_density,left or right breast,image view,abnormality id,abnormality type,mass shape,mass margins,assessment,pathology,subtlety,image file path,cropped image file path,ROI mask file path\n");
        var calc = new StringBuilder("patient_id,breast density,left_or_right_breast,image_view,abnormality_id,abnormality_type,calc_type,calc_distribution,assessment,pathology,subtlety,image_file_path,cropped_image_file_path,ROI_mask_file_path\n");
        int n = 0;
        foreach (var line in rows.Skip(1))
        {
            var f = DatasetAnnotationsCsv(line);
            if (f[header["xmin"]].Length == 0) continue;
            string study = f[header["study_id"]], image = f[header["image_id"]], side = f[header["laterality"]] == "L" ? "LEFT" : "RIGHT", view = f[header["view_position"]];
            int w = int.Parse(f[header["width"]]), h = int.Parse(f[header["height"]]);
            int x0 = (int)double.Parse(f[header["xmin"]]), y0 = (int)double.Parse(f[header["ymin"]]), x1 = (int)Math.Ceiling(double.Parse(f[header["xmax"]])), y1 = (int)Math.Ceiling(double.Parse(f[header["ymax"]]));
            bool isCalc = f[header["finding_categories"]].Contains("Calcification", StringComparison.Ordinal);
            string patient = $"P_{++n:00000}", imagePath = $"{(isCalc ? "Calc" : "Mass")}-Training_{patient}_{side}_{view}/{study}/{image}/000000.dcm";
            string maskPath = $"{(isCalc ? "Calc" : "Mass")}-Training_{patient}_{side}_{view}_1/{study}/{image}/000000.png";
            var src = Path.Combine(vindrFolder, "images", study, image + ".dicom");
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(dir, imagePath))!);
            File.Copy(src, Path.Combine(dir, imagePath), overwrite: true);
            var mask = new byte[w * h];
            double cx = (x0 + x1 - 1) / 2.0, cy = (y0 + y1 - 1) / 2.0, rx = Math.Max(1, (x1 - x0) / 2.0), ry = Math.Max(1, (y1 - y0) / 2.0);
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++)
                    if ((x - cx) * (x - cx) / (rx * rx) + (y - cy) * (y - cy) / (ry * ry) <= 1) mask[y * w + x] = 255;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(dir, maskPath))!);
            using (var img = ImageBuffer.FromSamples<byte>(w, h, 1, mask)) File.WriteAllBytes(Path.Combine(dir, maskPath), PngCodec.Encode(img));
            (isCalc ? calc : mass).Append($"{patient},2,{side},{view},1,{(isCalc ? "calcification" : "mass")},OVAL,CIRCUMSCRIBED,4,MALIGNANT,3,{imagePath},crop/{patient}.dcm,\"{maskPath}\n\"\n");
        }
        File.WriteAllText(Path.Combine(dir, "mass_case_description_train_set.csv"), mass.ToString());
        File.WriteAllText(Path.Combine(dir, "calc_case_description_train_set.csv"), calc.ToString());
        return dir;
    }

    private static string[] DatasetAnnotationsCsv(string line) => line.Contains('"')
        ? System.Text.RegularExpressions.Regex.Split(line, ",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)").Select(s => s.Trim('"')).ToArray()
        : line.Split(',');

    [Fact]
    public async Task A_cbis_ddsm_layout_dataset_is_ingested_and_augmented_with_segmentations_beside_the_outputs()
    {
        var folder = WriteCbisLayout(fixture.DatasetFolder);
        try
        {
            await RunFixture.UploadAsync(fixture.Azurite.ConnectionString, folder, "cbis");
            var storage = new PipelineStorage(fixture.Azurite.ConnectionString);
            var index = (await storage.Dataset("cbis").ReadIndexAsync(CancellationToken.None))!;
            Assert.Equal("CbisDdsm", index.AnnotationFormat);
            Assert.Empty(index.Problems);
            Assert.Contains(index.Findings!, f => f.Box != null);

            var request = AugmentationRunTests.Request("e2e-cbis", seed: 5, dataset: "cbis") with
            {
                Tasks = [new AugmentationTask { Mode = TaskMode.Replacement, Count = 2 }, new AugmentationTask { Mode = TaskMode.Reinsertion, Count = 1 }], // every CBIS-DDSM image has a finding: no insertion targets
            };
            await using var host = await LocalPipelineHost.StartAsync(fixture.Azurite.ConnectionString, new Dictionary<string, string?>
            {
                ["Pipeline:Triggers:DatasetDrop:PollInterval"] = "00:00:01", ["Pipeline:Engine:PollInterval"] = "00:00:00.200",
                ["Pipeline:InferenceWorker:PollInterval"] = "00:00:00.200",
            });
            var final = await HostRuns.SubmitAndWaitAsync(host, request, TimeSpan.FromMinutes(15));
            Assert.True(final.State is RunState.Completed or RunState.CompletedWithFailures, $"run ended {final.State}: {final.Error}");

            var run = storage.Run(request.RunId!);
            var results = await RunResults.ReadItemsAsync(run, CancellationToken.None);
            var ok = results.Where(r => r.Outcome is ItemOutcome.Succeeded or ItemOutcome.Flagged).ToList();
            Assert.NotEmpty(ok);
            foreach (var r in ok)
            {
                using var image = DicomImage.Read((await storage.ReadAsync(BlobPath.Parse(r.Output!)))!.ToMemory(), r.Output!);
                var segBlob = r.Output![..^".dcm".Length] + Pipeline.Mammography.MammographyComposer.SegmentationSuffix;
                var seg = DicomSegmentation.Read((await storage.ReadAsync(BlobPath.Parse(segBlob)))!.ToMemory(), segBlob);
                Assert.Equal(image.Attributes.SopInstanceUid, Assert.Single(seg.Frames).ReferencedSopInstanceUid);
            }
        }
        finally { Directory.Delete(folder, true); }
    }
}
