using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Ingestion;
using Pipeline.Imaging.Tests.Dicom;

namespace Pipeline.Imaging.Tests.Ingestion;

/// <summary>Findings given by masks: CBIS-DDSM ROI mask images and DICOM Segmentation objects.</summary>
public class MaskAnnotationIngestionTests
{
    private const int Rows = 128, Columns = 104;

    /// <summary>A mask of the image size with an ellipse set to <paramref name="value"/> inside [x0, x1) x [y0, y1).</summary>
    private static byte[] Ellipse(int x0, int y0, int x1, int y1, byte value = 1, int width = Columns, int height = Rows)
    {
        var mask = new byte[width * height];
        double cx = (x0 + x1 - 1) / 2.0, cy = (y0 + y1 - 1) / 2.0, rx = (x1 - x0) / 2.0, ry = (y1 - y0) / 2.0;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
                if ((x - cx) * (x - cx) / (rx * rx) + (y - cy) * (y - cy) / (ry * ry) <= 1.0) mask[y * width + x] = value;
        return mask;
    }

    private static void Write(string dir, string path, byte[] bytes)
    {
        var full = Path.Combine(dir, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, bytes);
    }

    private static byte[] Png(byte[] mask, int width = Columns, int height = Rows)
    {
        using var img = ImageBuffer.FromSamples<byte>(width, height, 1, mask);
        return PngCodec.Encode(img);
    }

    [Fact]
    public async Task CbisDdsmLayoutIsRecognisedWithBoxesFromItsRoiMasksAndBadRowsNamed()
    {
        var dir = TestDicom.TempDir();
        // Full mammograms as DICOM, ROI masks as 8-bit PNGs (0 / 255), at the paths the CSVs give.
        string Image(int seed) => $"Mass-Training_P_{seed:00000}_LEFT_CC/1.3.6.1.4.1.9590.100.1.2.{seed}/1.3.6.1.4.1.9590.100.1.2.{seed}.1/000000.dcm";
        for (int seed = 1; seed <= 4; seed++) Write(dir, Image(seed), DicomFileWriter.ToBytes(TestDicom.Mammo(Rows, Columns, seed: (ulong)seed).File));
        Write(dir, "Mass-Training_P_00001_LEFT_CC_1/roi/000000.png", Png(Ellipse(20, 30, 50, 70, 255)));
        Write(dir, "Mass-Training_P_00002_LEFT_CC_1/roi/000000.png", Png(Ellipse(40, 10, 60, 25, 255)));
        Write(dir, "Mass-Training_P_00003_LEFT_CC_1/roi/000000.png", Png(new byte[50 * 40], 50, 40)); // the cropped image, not the mask
        Write(dir, "Calc-Test_P_00004_LEFT_CC_1/roi/000001.png", Png(Ellipse(60, 80, 70, 100, 255)));
        Write(dir, "Calc-Test_P_00004_LEFT_CC_2/roi/000001.png", Png(Ellipse(10, 100, 16, 110, 255)));
        File.WriteAllText(Path.Combine(dir, "mass_case_description_train_set.csv"),
            "patient_id,breast_density,left or right breast,image view,abnormality id,abnormality type,mass shape,mass margins,assessment,pathology,subtlety,image file path,cropped image file path,ROI mask file path\n" +
            $"P_00001,3,LEFT,CC,1,mass,OVAL,CIRCUMSCRIBED,4,MALIGNANT,4,{Image(1)},x/1.dcm,\"Mass-Training_P_00001_LEFT_CC_1/roi/000000.png\n\"\n" +
            $"P_00002,2,LEFT,CC,1,mass,IRREGULAR,SPICULATED,5,MALIGNANT,5,{Image(2)},x/2.dcm,Mass-Training_P_00002_LEFT_CC_1/roi/000000.png\n" +
            $"P_00002,2,LEFT,CC,2,mass,IRREGULAR,SPICULATED,5,MALIGNANT,5,{Image(2)},x/3.dcm,Mass-Training_P_00002_LEFT_CC_2/roi/000000.png\n" +
            $"P_00003,2,LEFT,CC,1,mass,ROUND,OBSCURED,3,BENIGN,3,{Image(3)},x/4.dcm,Mass-Training_P_00003_LEFT_CC_1/roi/000000.png\n");
        File.WriteAllText(Path.Combine(dir, "calc_case_description_test_set.csv"),
            "patient_id,breast density,left_or_right_breast,image_view,abnormality_id,abnormality_type,calc_type,calc_distribution,assessment,pathology,subtlety,image_file_path,cropped_image_file_path,ROI_mask_file_path\n" +
            $"P_00004,1,LEFT,CC,1,calcification,PLEOMORPHIC,CLUSTERED,4,MALIGNANT,3,{Image(4)},x/5.dcm,Calc-Test_P_00004_LEFT_CC_1/roi/000001.png\n" +
            $"P_00004,1,LEFT,CC,2,calcification,AMORPHOUS,CLUSTERED,4,BENIGN,2,{Image(4)},x/6.dcm,Calc-Test_P_00004_LEFT_CC_2/roi/000001.png\n");

        var result = await DatasetIngestion.RunAsync(new FolderDatasetSource(dir));
        var r = result.Report;
        Assert.Equal("CbisDdsm", r.AnnotationFormat);
        var errors = r.Errors.Select(e => $"{e.Path}|{e.Message}").ToList();
        Assert.True(errors.Count == 2, string.Join("\n", errors));
        Assert.Contains("mass_case_description_train_set.csv|mass_case_description_train_set.csv:4: ROI mask 'Mass-Training_P_00002_LEFT_CC_2/roi/000000.png' is not in the dataset; row skipped", errors);
        Assert.Contains("mass_case_description_train_set.csv|mass_case_description_train_set.csv:5: ROI mask 'Mass-Training_P_00003_LEFT_CC_1/roi/000000.png' is 50x40 but the image '" + Image(3) + "' is 104x128; row skipped", errors);
        Assert.Equal(3, r.ValidImages); // P1, P2 (one of two rows), P4 (two rows); P3 lost its only row
        Assert.Equal(4, r.Findings);
        Assert.Equal(2, r.ClassCounts["Mass"]);
        Assert.Equal(2, r.ClassCounts["Calcification"]);
        Assert.Equal(1, r.SplitCounts["test"]);
        Assert.Equal(2, r.SplitCounts["training"]);
        Assert.Contains(Image(3), r.Unreferenced);
        Assert.Equal(11, result.Index.FileCount); // 4 images, 5 masks, 2 CSVs: every file hashed
        var p1 = Assert.Single(result.Index.Findings!, f => f.Image == Image(1));
        Assert.Equal(new Core.Contracts.BoundingBox(20, 30, 50, 70), p1.Box);
        Assert.Equal(("Mass", "L", "CC", 104, 128), (p1.ClassName, p1.Laterality, p1.View, p1.Width, p1.Height));
        Assert.Equal("mass_case_description_train_set.csv:2", p1.Source);
        var p4 = result.Index.Findings!.Where(f => f.Image == Image(4)).Select(f => f.Box).ToList();
        Assert.Equal([new Core.Contracts.BoundingBox(60, 80, 70, 100), new Core.Contracts.BoundingBox(10, 100, 16, 110)], p4);
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task ADatasetOfImagesAndSegmentationsIsIndexedWithTheSegmentBoxesAndABadSegmentationNamed()
    {
        var dir = TestDicom.TempDir();
        var images = Enumerable.Range(1, 3).Select(i => TestDicom.Mammo(Rows, Columns, seed: (ulong)(10 + i)).File).ToList();
        for (int i = 0; i < 3; i++) Write(dir, $"images/img{i}.dcm", DicomFileWriter.ToBytes(images[i]));
        Write(dir, "seg/img0-mass.dcm", DicomFileWriter.ToBytes(SegmentationWriter.Create(images[0], Ellipse(30, 40, 61, 72), new SegmentationOptions { SegmentLabel = "Mass" })));
        // A Segmentation of image 1 whose pixel data is a byte short of its declared frame.
        var bad = SegmentationWriter.Create(images[1], Ellipse(5, 5, 20, 20), new SegmentationOptions { SegmentLabel = "Mass" });
        bad.Dataset.SetBytes(DicomTag.PixelData, DicomVR.OB, bad.Dataset.GetBytes(DicomTag.PixelData)[..^2]);
        Write(dir, "seg/img1-mass.dcm", DicomFileWriter.ToBytes(bad));
        // One that segments an image the dataset does not have.
        var stranger = TestDicom.Mammo(Rows, Columns, seed: 99).File;
        Write(dir, "seg/stranger.dcm", DicomFileWriter.ToBytes(SegmentationWriter.Create(stranger, Ellipse(5, 5, 20, 20), new SegmentationOptions { SegmentLabel = "Mass" })));

        var result = await DatasetIngestion.RunAsync(new FolderDatasetSource(dir));
        var r = result.Report;
        Assert.Equal("DicomSeg", r.AnnotationFormat);
        Assert.Equal(2, r.Errors.Count);
        Assert.Contains(r.Errors, e => e.Path == "seg/img1-mass.dcm" && e.Message.Contains("do not match the declared size"));
        Assert.Contains(r.Errors, e => e.Path == "seg/stranger.dcm" && e.Message.Contains("which no image of the dataset has"));
        Assert.Equal(3, r.ValidImages);
        Assert.Equal(1, r.Findings);
        Assert.Equal(1, r.ClassCounts["Mass"]);
        Assert.Empty(r.Unreferenced);
        var findings = result.Index.Findings!;
        Assert.Equal(3, findings.Count);
        var mass = Assert.Single(findings, f => f.Box != null);
        Assert.Equal(("images/img0.dcm", "Mass", new Core.Contracts.BoundingBox(30, 40, 61, 72), "seg/img0-mass.dcm frame 1"), (mass.Image, mass.ClassName, mass.Box, mass.Source));
        Assert.Equal(["images/img1.dcm", "images/img2.dcm"], findings.Where(f => f.Box == null).Select(f => f.Image));
        Directory.Delete(dir, true);
    }
}
