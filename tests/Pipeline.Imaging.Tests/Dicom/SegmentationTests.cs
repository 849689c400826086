using System.Security.Cryptography;
using System.Text.Json;
using Pipeline.Core.Contracts;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Compositing;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Preprocessing;
using Pipeline.Imaging.Tests.Buffers;

namespace Pipeline.Imaging.Tests.Dicom;

public class SegmentationTests
{
    private const string PydicomTestFiles = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

    private static Lineage SampleLineage() => new()
    {
        RunId = "run-seg", ItemId = "item-3", Mode = TaskMode.Insertion, SourceImage = "datasets/d/images/a.dicom",
        ReferenceImage = "datasets/d/images/b.dicom", ReferenceBox = new BoundingBox(10, 20, 40, 60), TargetBox = new BoundingBox(30, 40, 70, 90),
        ClassName = "Mass", Model = new ModelIdentity("mammo-tiny@1", new string('b', 64)), Seed = 77,
        Sampler = new SamplerSettings { Steps = 20, Guidance = 3, Eta = 0 },
    };

    /// <summary>A derived mammogram (128 x 104) and a non-rectangular mask in [30, 70) x [40, 90).</summary>
    private static (DicomFile Image, byte[] Mask) DerivedWithMask()
    {
        var (source, phantom) = TestDicom.Mammo(128, 104);
        using var buffer = ImageBuffer.FromSamples<ushort>(104, 128, 1, phantom.Pixels);
        var image = DerivedImageWriter.Create(source, buffer, new DerivedImageOptions { Lineage = SampleLineage() });
        var mask = new byte[104 * 128];
        for (int y = 40; y < 90; y++)
            for (int x = 30; x < 70; x++)
                if ((x - 50) * (x - 50) / 400.0 + (y - 65) * (y - 65) / 625.0 <= 1) mask[y * 104 + x] = 1;
        return (image, mask);
    }

    [Fact]
    public void AWrittenSegmentationReadsBackWithItsMaskSegmentReferenceAndLineage()
    {
        var (image, mask) = DerivedWithMask();
        var seg = SegmentationWriter.Create(image, mask, new SegmentationOptions { SegmentLabel = "Mass", Lineage = SampleLineage() });
        var bytes = DicomFileWriter.ToBytes(seg);
        var back = DicomSegmentation.Read(bytes, "lesion.seg.dcm");
        Assert.Equal((128, 104), (back.Rows, back.Columns));
        Assert.Equal("BINARY", back.SegmentationType);
        var segment = Assert.Single(back.Segments);
        Assert.Equal((1, "Mass", "Lesion"), (segment.Number, segment.Label, segment.TypeCodeMeaning));
        var frame = Assert.Single(back.Frames);
        Assert.Equal(mask, frame.Mask);
        Assert.Equal(image.Dataset.GetString(DicomTag.SOPInstanceUID), frame.ReferencedSopInstanceUid);
        Assert.Equal([image.Dataset.GetString(DicomTag.SOPInstanceUID)!], back.ReferencedInstances);
        Assert.Equal([30.0, 40, 70, 90], frame.BoundingBox(back.Columns)!);
        var ds = back.File.Dataset;
        Assert.Equal(image.Dataset.GetString(DicomTag.StudyInstanceUID), ds.GetString(DicomTag.StudyInstanceUID));
        Assert.NotEqual(image.Dataset.GetString(DicomTag.SeriesInstanceUID), ds.GetString(DicomTag.SeriesInstanceUID));
        Assert.True(DicomUid.IsValid(ds.GetString(DicomTag.SOPInstanceUID)));
        Assert.Equal("SEG", ds.GetString(DicomTag.Modality));
        Assert.Equal(SampleLineage(), DerivedImageWriter.ReadLineage(back.File)! with { Sampler = SampleLineage().Sampler });
    }

    [Fact]
    public void DcmdumpReadsTheSegmentationWithoutWarningsAndPydicomDecodesItsMask()
    {
        var dir = TestDicom.TempDir();
        var (image, mask) = DerivedWithMask();
        var path = Path.Combine(dir, "lesion.seg.dcm");
        DicomFileWriter.Save(SegmentationWriter.Create(image, mask, new SegmentationOptions { SegmentLabel = "Mass", Lineage = SampleLineage() }), path);
        var (code, output, err) = TestDicom.Run("dcmdump", "-dc", "+E", path);
        Assert.Equal(0, code);
        Assert.True(err.Trim().Length == 0, err);
        Assert.DoesNotContain("W: ", output);
        Assert.DoesNotContain("E: ", output);
        Assert.Contains("=SegmentationStorage", TestDicom.Run("dcmdump", "+P", "0008,0016", path).Out);
        // dciodvfy (dicom3tools 2022) on this SEG of a mammogram reports one error: Slice Thickness (Type 1C in the Pixel
        // Measures macro), which PS3.3 C.7.6.16.2.1 requires only for Volumetric Properties VOLUME/SAMPLED; a projection
        // mammogram has no slice thickness, so none is invented (docs/dicom.md). The SEG of a Secondary Capture (no
        // frame of reference, no pixel measures) passes it: SecondaryCaptureWriterTests.

        var decoded = path + ".u8";
        TestDicom.RunOk("/usr/bin/python3", "-c", string.Join('\n',
            "import sys, pydicom, numpy as np",
            "ds = pydicom.dcmread(sys.argv[1])",
            "assert ds.SOPClassUID == '1.2.840.10008.5.1.4.1.1.66.4', ds.SOPClassUID",
            "assert ds.SegmentSequence[0].SegmentLabel == 'Mass'",
            "src = ds.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence[0]",
            "assert src.ReferencedSOPInstanceUID == sys.argv[3], src.ReferencedSOPInstanceUID",
            "a = ds.pixel_array",
            "assert a.shape == (128, 104), a.shape",
            "open(sys.argv[2], 'wb').write(a.astype(np.uint8).tobytes())"), path, decoded, image.Dataset.GetString(DicomTag.SOPInstanceUID)!);
        Assert.Equal(mask, File.ReadAllBytes(decoded));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void PydicomsLiverSegmentationDecodesAsPydicomDecodesIt()
    {
        var expected = JsonDocument.Parse(File.ReadAllText(Npy.DataPath("segmentation", "liver_1frame.json"))).RootElement;
        var seg = DicomSegmentation.Open(Path.Combine(PydicomTestFiles, "liver_1frame.dcm"));
        Assert.Equal(expected.GetProperty("rows").GetInt32(), seg.Rows);
        Assert.Equal(expected.GetProperty("segmentLabel").GetString(), Assert.Single(seg.Segments).Label);
        var frame = Assert.Single(seg.Frames);
        Assert.Equal(expected.GetProperty("referencedSopInstanceUid").GetString(), frame.ReferencedSopInstanceUid);
        Assert.Equal(expected.GetProperty("pixels").GetInt32(), frame.Mask.Sum(b => b));
        Assert.Equal(expected.GetProperty("box").EnumerateArray().Select(v => v.GetDouble()).ToArray(), frame.BoundingBox(seg.Columns));
        Assert.Equal(expected.GetProperty("maskSha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(frame.Mask)));
    }

    /// <summary>A hand-built 3-frame, 2-segment SEG of 5 x 3 pixels: 15 bits per frame, so frames 2 and 3 start inside a byte.</summary>
    private static DicomFile MultiFrame(int frames, byte[] packed)
    {
        var ds = new DicomDataset();
        ds.SetString(DicomTag.SOPClassUID, DicomVR.UI, DicomSegmentation.SopClassUid);
        ds.SetString(DicomTag.SOPInstanceUID, DicomVR.UI, DicomUid.Generate());
        ds.SetString(DicomTag.Modality, DicomVR.CS, "SEG");
        ds.SetUInt16(DicomTag.SamplesPerPixel, 1);
        ds.SetString(DicomTag.PhotometricInterpretation, DicomVR.CS, "MONOCHROME2");
        ds.SetInts(DicomTag.NumberOfFrames, frames);
        ds.SetUInt16(DicomTag.Rows, 3);
        ds.SetUInt16(DicomTag.Columns, 5);
        ds.SetUInt16(DicomTag.BitsAllocated, 1);
        ds.SetUInt16(DicomTag.BitsStored, 1);
        ds.SetUInt16(DicomTag.HighBit, 0);
        ds.SetUInt16(DicomTag.PixelRepresentation, 0);
        ds.SetString(DicomTag.SegmentationType, DicomVR.CS, "BINARY");
        DicomDataset Segment(int n, string label)
        {
            var s = new DicomDataset();
            s.SetUInt16(DicomTag.SegmentNumber, (ushort)n);
            s.SetString(DicomTag.SegmentLabel, DicomVR.LO, label);
            s.SetString(DicomTag.SegmentAlgorithmType, DicomVR.CS, "MANUAL");
            s.SetSequence(DicomTag.SegmentedPropertyCategoryCodeSequence, DicomDataset.CodeItem("49755003", "SCT", "Morphologically Altered Structure"));
            s.SetSequence(DicomTag.SegmentedPropertyTypeCodeSequence, DicomDataset.CodeItem("52988006", "SCT", "Lesion"));
            return s;
        }
        ds.SetSequence(DicomTag.SegmentSequence, Segment(1, "Mass"), Segment(2, "Calcification"));
        var perFrame = new List<DicomDataset>();
        for (int f = 0; f < frames; f++)
        {
            var id = new DicomDataset();
            id.SetUInt16(DicomTag.ReferencedSegmentNumber, (ushort)(f == 1 ? 2 : 1));
            var source = new DicomDataset();
            source.SetString(DicomTag.ReferencedSOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.1.2");
            source.SetString(DicomTag.ReferencedSOPInstanceUID, DicomVR.UI, $"1.2.3.{f + 1}");
            var derivation = new DicomDataset();
            derivation.SetSequence(DicomTag.SourceImageSequence, source);
            var group = new DicomDataset();
            group.SetSequence(DicomTag.DerivationImageSequence, derivation);
            group.SetSequence(DicomTag.SegmentIdentificationSequence, id);
            perFrame.Add(group);
        }
        ds.SetSequence(DicomTag.PerFrameFunctionalGroupsSequence, perFrame.ToArray());
        ds.SetBytes(DicomTag.PixelData, DicomVR.OB, packed);
        return new DicomFile(new DicomDataset(), ds, TransferSyntax.ExplicitVRLittleEndian, "multi.seg.dcm");
    }

    [Fact]
    public void FramesThatStartInsideAByteUnpackAsPydicomUnpacksThem()
    {
        // 45 bits of a pattern no frame shares.
        var bits = new byte[45];
        for (int i = 0; i < bits.Length; i++) bits[i] = (byte)((i * 7 % 5 == 0 || i % 11 == 3) ? 1 : 0);
        var packed = DicomSegmentation.PackBits(bits);
        var dir = TestDicom.TempDir();
        var path = Path.Combine(dir, "multi.seg.dcm");
        DicomFileWriter.Save(MultiFrame(3, packed), path);
        var seg = DicomSegmentation.Open(path);
        Assert.Equal([1, 2, 1], seg.Frames.Select(f => f.SegmentNumber));
        Assert.Equal(["1.2.3.1", "1.2.3.2", "1.2.3.3"], seg.Frames.Select(f => f.ReferencedSopInstanceUid));
        var decoded = path + ".u8";
        TestDicom.RunOk("/usr/bin/python3", "-c",
            "import sys, pydicom, numpy as np; a = pydicom.dcmread(sys.argv[1]).pixel_array; assert a.shape == (3, 3, 5), a.shape; open(sys.argv[2], 'wb').write(a.astype(np.uint8).tobytes())",
            path, decoded);
        Assert.Equal(File.ReadAllBytes(decoded), seg.Frames.SelectMany(f => f.Mask).ToArray());
        Assert.Equal(bits, seg.Frames.SelectMany(f => f.Mask).ToArray());
        Directory.Delete(dir, true);
    }

    [Theory]
    [InlineData(2, "need 4")] // 30 bits need 4 bytes; 6 are present
    [InlineData(4, "need 8")] // 60 bits need 8 bytes; 6 are present
    public void ASegmentationWhoseFramesDoNotMatchItsDeclaredSizeIsRefusedNamingTheFile(int declaredFrames, string need)
    {
        var packed = DicomSegmentation.PackBits(new byte[45]); // 3 frames' worth: 6 bytes
        var file = MultiFrame(3, packed);
        file.Dataset.SetInts(DicomTag.NumberOfFrames, declaredFrames);
        file.Dataset.SetSequence(DicomTag.PerFrameFunctionalGroupsSequence, Enumerable.Range(0, declaredFrames).Select(_ => new DicomDataset()).ToArray());
        var ex = Assert.Throws<DicomException>(() => DicomSegmentation.Read(DicomFileWriter.ToBytes(file), "bad/seg.dcm"));
        Assert.Equal("bad/seg.dcm", ex.Item);
        Assert.Contains("Pixel Data holds 6 bytes", ex.Message);
        Assert.Contains(need, ex.Message);
        Assert.Contains("do not match the declared size", ex.Message);
    }

    [Fact]
    public void FewerPerFrameFunctionalGroupsThanFramesAreRefused()
    {
        var file = MultiFrame(3, DicomSegmentation.PackBits(new byte[45]));
        file.Dataset.SetSequence(DicomTag.PerFrameFunctionalGroupsSequence, new DicomDataset(), new DicomDataset());
        var ex = Assert.Throws<DicomException>(() => DicomSegmentation.Read(DicomFileWriter.ToBytes(file), "bad/seg.dcm"));
        Assert.Contains("Per-frame Functional Groups Sequence has 2 item(s) for 3 frame(s)", ex.Message);
    }

    [Theory]
    [InlineData("lesion_mass")]
    [InlineData("lesion_faint")]
    [InlineData("lesion_edge")]
    public void LesionMaskMatchesOtsuLabelAndFillHolesInScipyAndSkimage(string name)
    {
        var cases = JsonDocument.Parse(File.ReadAllText(Npy.DataPath("segmentation", "lesion_cases.json"))).RootElement.GetProperty(name);
        var original = Npy.Load("segmentation", $"{name}_original.npy");
        var composite = Npy.Load("segmentation", $"{name}_composite.npy");
        var expected = Npy.Load("segmentation", $"{name}_mask.npy").Bytes();
        int h = original.Shape[0], w = original.Shape[1];
        using var a = ImageBuffer.FromSamples<ushort>(w, h, 1, original.UInt16());
        using var b = ImageBuffer.FromSamples<ushort>(w, h, 1, composite.UInt16());
        var box = cases.GetProperty("box").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var result = LesionMask.FromDifference(a, b, new BoxF(box[0], box[1], box[2], box[3]));
        Assert.Equal(LesionMaskSource.Difference, result.Source);
        Assert.Equal(cases.GetProperty("threshold").GetDouble(), result.Threshold, 9);
        Assert.Equal(cases.GetProperty("pixels").GetInt32(), result.Pixels);
        Assert.Equal(expected, result.Mask);
    }

    [Fact]
    public void AnUnchangedBoxGivesTheBoxAsMaskAndSaysSo()
    {
        using var a = ImageBuffer.FromSamples<ushort>(10, 8, 1, Enumerable.Range(0, 80).Select(i => (ushort)i).ToArray());
        var result = LesionMask.FromDifference(a, a, new BoxF(2, 1, 5.5, 4));
        Assert.Equal(LesionMaskSource.Box, result.Source);
        Assert.Equal(4 * 3, result.Pixels);
        Assert.Equal(1, result.Mask[1 * 10 + 5]);
        Assert.Equal(0, result.Mask[1 * 10 + 6]);
    }
}
