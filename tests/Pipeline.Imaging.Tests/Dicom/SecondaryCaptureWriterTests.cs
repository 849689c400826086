using Pipeline.Core.Contracts;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Dicom;

namespace Pipeline.Imaging.Tests.Dicom;

/// <summary>Secondary Capture of PNG/JPEG composites: read back by the pipeline, dcmdump, pydicom and dciodvfy (the
/// IOD checker of dicom3tools), and a Segmentation over it.</summary>
public class SecondaryCaptureWriterTests
{
    private static Lineage SampleLineage() => new()
    {
        RunId = "run-sc", ItemId = "item-1", Mode = TaskMode.Insertion, SourceImage = "datasets/d/images/a.png",
        ReferenceImage = "datasets/d/images/b.png", ReferenceBox = new BoundingBox(4, 5, 20, 22), TargetBox = new BoundingBox(10, 12, 30, 33),
        ClassName = "Mass", Model = new ModelIdentity("mammo-tiny@1", new string('c', 64)), Seed = 9,
        Sampler = new SamplerSettings { Steps = 3, Guidance = 2, Eta = 0 },
    };

    /// <summary>A deterministic raster: 8/16-bit gray or 8-bit RGB, 37 x 29 (odd sizes: odd 8-bit pixel data length).</summary>
    private static ImageBuffer Raster(PixelType type, int channels)
    {
        const int w = 37, h = 29;
        if (type == PixelType.UInt16)
            return ImageBuffer.FromSamples<ushort>(w, h, channels, Enumerable.Range(0, w * h * channels).Select(i => (ushort)(i * 2654435761u >> 16)).ToArray());
        return ImageBuffer.FromSamples<byte>(w, h, channels, Enumerable.Range(0, w * h * channels).Select(i => (byte)(i * 2654435761u >> 24)).ToArray());
    }

    private static DicomFile Write(ImageBuffer raster, bool lossy = false) => SecondaryCaptureWriter.Create(raster, new SecondaryCaptureOptions
    {
        SourceName = "datasets/d/images/a.png", SourceWasLossy = lossy, Lineage = SampleLineage(),
        SopInstanceUid = DicomUid.FromName("t/sc/sop"), SeriesInstanceUid = DicomUid.FromName("t/sc/series"),
    });

    [Theory]
    [InlineData(PixelType.UInt8, 1, "MONOCHROME2")]
    [InlineData(PixelType.UInt16, 1, "MONOCHROME2")]
    [InlineData(PixelType.UInt8, 3, "RGB")]
    public void The_pipeline_reads_back_the_rasters_samples_and_the_lineage(PixelType type, int channels, string photometric)
    {
        using var raster = Raster(type, channels);
        var bytes = DicomFileWriter.ToBytes(Write(raster));
        using var back = DicomImage.Read(bytes, "sc.dcm");
        Assert.Equal(photometric, back.Attributes.PhotometricInterpretation);
        Assert.Equal((raster.Width, raster.Height, channels), (back.Attributes.Columns, back.Attributes.Rows, back.Attributes.SamplesPerPixel));
        Assert.Equal(raster.PixelType, back.Stored.PixelType);
        Assert.True(raster.Bytes.SequenceEqual(back.Stored.Bytes), "stored samples differ");
        var ds = back.File.Dataset;
        Assert.Equal(SecondaryCaptureWriter.SopClassUid, ds.GetString(DicomTag.SOPClassUID));
        Assert.Equal("SYN", ds.GetString(DicomTag.ConversionType));
        Assert.Equal(["DERIVED", "SECONDARY"], ds.GetStrings(DicomTag.ImageType));
        Assert.Contains("converted from datasets/d/images/a.png", ds.GetString(DicomTag.DerivationDescription));
        Assert.Equal(SampleLineage(), DerivedImageWriter.ReadLineage(back.File)! with { Sampler = SampleLineage().Sampler });
        // the same source gives the same study and patient; the bytes do not depend on the clock
        Assert.Equal(DicomUid.FromName("pipeline:secondary-capture-study:datasets/d/images/a.png"), ds.GetString(DicomTag.StudyInstanceUID));
        Assert.Equal(bytes, DicomFileWriter.ToBytes(Write(raster)));
    }

    [Fact]
    public void A_jpeg_source_is_flagged_lossy_and_unsupported_rasters_are_refused_naming_the_source()
    {
        using var gray = Raster(PixelType.UInt8, 1);
        var ds = Write(gray, lossy: true).Dataset;
        Assert.Equal("01", ds.GetString(DicomTag.LossyImageCompression));
        Assert.Equal("ISO_10918_1", ds.GetString(DicomTag.LossyImageCompressionMethod));
        Assert.Equal("00", Write(gray).Dataset.GetString(DicomTag.LossyImageCompression));
        using var rgba = Raster(PixelType.UInt8, 4);
        var e = Assert.Throws<DicomException>(() => Write(rgba));
        Assert.Contains("datasets/d/images/a.png", e.Message);
        Assert.Contains("4-channel", e.Message);
    }

    [Theory]
    [InlineData(PixelType.UInt8, 1)]
    [InlineData(PixelType.UInt16, 1)]
    [InlineData(PixelType.UInt8, 3)]
    public void Dcmdump_pydicom_and_dciodvfy_accept_it_and_pydicom_decodes_the_same_samples(PixelType type, int channels)
    {
        var dir = TestDicom.TempDir();
        using var raster = Raster(type, channels);
        var path = Path.Combine(dir, "sc.dcm");
        DicomFileWriter.Save(Write(raster), path);

        var (code, output, err) = TestDicom.Run("dcmdump", "-dc", "+E", path);
        Assert.Equal(0, code);
        Assert.True(err.Trim().Length == 0, err);
        Assert.DoesNotContain("W: ", output);
        Assert.DoesNotContain("E: ", output);
        Assert.Contains("=SecondaryCaptureImageStorage", TestDicom.Run("dcmdump", "+P", "0008,0016", path).Out);

        AssertDciodvfyClean(path);

        var decoded = path + ".raw";
        TestDicom.RunOk("/usr/bin/python3", "-c", string.Join('\n',
            "import sys, pydicom, numpy as np",
            "ds = pydicom.dcmread(sys.argv[1])",
            "assert ds.SOPClassUID == '1.2.840.10008.5.1.4.1.1.7', ds.SOPClassUID",
            "assert ds.ConversionType == 'SYN'",
            "a = ds.pixel_array",
            "open(sys.argv[2], 'wb').write(np.ascontiguousarray(a).astype(a.dtype.newbyteorder('<')).tobytes())"), path, decoded);
        Assert.Equal(raster.Bytes.ToArray(), File.ReadAllBytes(decoded));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void A_segmentation_of_the_secondary_capture_references_it_and_passes_dciodvfy()
    {
        var dir = TestDicom.TempDir();
        using var raster = Raster(PixelType.UInt16, 1);
        var image = Write(raster);
        var mask = new byte[raster.Width * raster.Height];
        for (int y = 12; y < 20; y++)
            for (int x = 10; x < 25; x++) mask[y * raster.Width + x] = 1;
        var seg = SegmentationWriter.Create(image, mask, new SegmentationOptions { SegmentLabel = "Mass", Lineage = SampleLineage() });
        var path = Path.Combine(dir, "sc.seg.dcm");
        DicomFileWriter.Save(seg, path);
        var back = DicomSegmentation.Open(path);
        Assert.Equal(image.Dataset.GetString(DicomTag.SOPInstanceUID), back.Frames[0].ReferencedSopInstanceUid);
        Assert.Equal(image.Dataset.GetString(DicomTag.StudyInstanceUID), back.File.Dataset.GetString(DicomTag.StudyInstanceUID));
        Assert.Equal(mask, back.Frames[0].Mask);
        AssertDciodvfyClean(path);
        Directory.Delete(dir, true);
    }

    /// <summary>dciodvfy (dicom3tools) checks the object against its IOD: no "Error" line. Its warnings are printed for the
    /// record by the caller's output but not failed on (dicom3tools warns about e.g. empty Type 2 attributes it would like filled).</summary>
    internal static void AssertDciodvfyClean(string path)
    {
        var (_, output, err) = TestDicom.Run("dciodvfy", path);
        var errors = (output + err).Split('\n').Where(l => l.StartsWith("Error", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0, $"dciodvfy {Path.GetFileName(path)}:\n{output}{err}");
    }
}
