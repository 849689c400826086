using Pipeline.Core.Contracts;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Dicom;

namespace Pipeline.Imaging.Tests.Dicom;

public class DerivedImageWriterTests
{
    private static Lineage SampleLineage(string sourceUid) => new()
    {
        RunId = "run-42", ItemId = "item-7", Mode = TaskMode.Insertion, SourceImage = "datasets/d/images/a.dicom",
        ReferenceImage = "datasets/d/images/b.dicom", ReferenceBox = new BoundingBox(10, 20, 40, 60), TargetBox = new BoundingBox(50, 60, 80, 100),
        ClassName = "Mass", Model = new ModelIdentity("mammo-tiny@1", new string('a', 64)), Seed = 1234567890123,
        Sampler = new SamplerSettings { Steps = 50, Guidance = 5, Eta = 0 },
    };

    private static (DicomFile Source, DicomFile Derived, ushort[] Pixels) Make(DerivedImageOptions options)
    {
        var (source, phantom) = TestDicom.Mammo(128, 104);
        var pixels = phantom.Pixels.Select(p => (ushort)(p == 0 ? 0 : p + 7)).ToArray();
        using var buffer = ImageBuffer.FromSamples<ushort>(104, 128, 1, pixels);
        return (source, DerivedImageWriter.Create(source, buffer, options), pixels);
    }

    [Fact]
    public void DerivedImageRoundTripsWithNewUidsSourceReferenceAndLineage()
    {
        var lineage = SampleLineage("x");
        var (source, derived, pixels) = Make(new DerivedImageOptions { Lineage = lineage });
        var back = DicomFile.Read(DicomFileWriter.ToBytes(derived), "derived.dcm");
        var ds = back.Dataset;
        foreach (var tag in new[] { DicomTag.SOPInstanceUID, DicomTag.SeriesInstanceUID, DicomTag.StudyInstanceUID })
            Assert.True(DicomUid.IsValid(ds.GetString(tag)), $"{tag} {ds.GetString(tag)}");
        Assert.NotEqual(source.Dataset.GetString(DicomTag.SOPInstanceUID), ds.GetString(DicomTag.SOPInstanceUID));
        Assert.NotEqual(source.Dataset.GetString(DicomTag.SeriesInstanceUID), ds.GetString(DicomTag.SeriesInstanceUID));
        Assert.Equal(source.Dataset.GetString(DicomTag.StudyInstanceUID), ds.GetString(DicomTag.StudyInstanceUID));
        Assert.Equal(source.Dataset.GetString(DicomTag.PatientName), ds.GetString(DicomTag.PatientName));
        Assert.Equal(ds.GetString(DicomTag.SOPInstanceUID), back.FileMetaInformation.GetString(DicomTag.MediaStorageSOPInstanceUID));
        Assert.StartsWith("2.25.", ds.GetString(DicomTag.SOPInstanceUID));
        Assert.Equal(["DERIVED", "SECONDARY"], ds.GetStrings(DicomTag.ImageType));
        Assert.Equal("NO", ds.GetString(DicomTag.BurnedInAnnotation));
        var src = Assert.Single(ds.GetSequence(DicomTag.SourceImageSequence));
        Assert.Equal(source.Dataset.GetString(DicomTag.SOPInstanceUID), src.GetString(DicomTag.ReferencedSOPInstanceUID));
        Assert.Equal(lineage, DerivedImageWriter.ReadLineage(back) with { Sampler = lineage.Sampler });
        Assert.Equal(lineage.Sampler.Steps, DerivedImageWriter.ReadLineage(back)!.Sampler.Steps);
        Assert.Contains("mammo-tiny@1", ds.GetString(DicomTag.ImageComments));
        Assert.Equal("1234567890123", ds.GetString(DerivedImageWriter.SeedTag));
        using var image = DicomImage.Read(DicomFileWriter.ToBytes(derived), "derived.dcm");
        Assert.Equal(14, image.Attributes.BitsStored);
        Assert.Equal(pixels, image.Stored.Pixels<ushort>().ToArray());
    }

    [Fact]
    public void TwoDerivedImagesGetDistinctUids()
    {
        var (_, a, _) = Make(new DerivedImageOptions());
        var (_, b, _) = Make(new DerivedImageOptions());
        Assert.NotEqual(a.Dataset.GetString(DicomTag.SOPInstanceUID), b.Dataset.GetString(DicomTag.SOPInstanceUID));
        Assert.True(a.Dataset.GetString(DicomTag.SOPInstanceUID)!.Length <= 64);
    }

    [Fact]
    public void DcmdumpReadsTheDerivedFileWithoutWarnings()
    {
        var dir = TestDicom.TempDir();
        var (_, derived, _) = Make(new DerivedImageOptions { Lineage = SampleLineage("x"), Deidentify = new DicomUidRemapper("salt") });
        var path = Path.Combine(dir, "derived.dcm");
        DicomFileWriter.Save(derived, path);
        var (code, output, err) = TestDicom.Run("dcmdump", "-dc", "+E", path);
        Assert.Equal(0, code);
        Assert.True(err.Trim().Length == 0, err);
        Assert.DoesNotContain("W: ", output);
        Assert.DoesNotContain("E: ", output);
        Assert.Contains("PIPELINE LINEAGE 1", output);
        var (gcode, gout, gerr) = TestDicom.Run("gdcminfo", path);
        Assert.True(gcode == 0, gout + gerr);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void DeidentificationRemovesIdentityAndRemapsUidsConsistently()
    {
        var remap = new DicomUidRemapper("run-1");
        var (source, a, _) = Make(new DerivedImageOptions { Deidentify = remap, Lineage = SampleLineage("x") });
        var (_, b, _) = Make(new DerivedImageOptions { Deidentify = remap });
        var da = a.Dataset; var db = b.Dataset;
        Assert.Null(da.GetString(DicomTag.PatientName));
        Assert.NotEqual("PAT1", da.GetString(DicomTag.PatientID));
        Assert.Equal(da.GetString(DicomTag.PatientID), db.GetString(DicomTag.PatientID));
        Assert.Null(da.GetString(DicomTag.InstitutionName));
        Assert.Equal("YES", da.GetString(DicomTag.PatientIdentityRemoved));
        string origStudy = source.Dataset.GetString(DicomTag.StudyInstanceUID)!;
        Assert.NotEqual(origStudy, da.GetString(DicomTag.StudyInstanceUID));
        Assert.Equal(da.GetString(DicomTag.StudyInstanceUID), db.GetString(DicomTag.StudyInstanceUID));
        Assert.Equal(remap.Map(source.Dataset.GetString(DicomTag.SOPInstanceUID)!),
            da.GetSequence(DicomTag.SourceImageSequence)[0].GetString(DicomTag.ReferencedSOPInstanceUID));
        Assert.Equal(source.Dataset.GetString(DicomTag.SOPClassUID), da.GetString(DicomTag.SOPClassUID)); // standard UIDs kept
        Assert.NotNull(DerivedImageWriter.ReadLineage(a)); // the lineage block is added after private tags are stripped
    }

    [Fact]
    public void WrongPixelFormatIsAClearError()
    {
        var (source, _) = TestDicom.Mammo(128, 104);
        using var bytes8 = ImageBuffer.Create(104, 128, 1, PixelType.UInt8);
        var ex = Assert.Throws<DicomException>(() => DerivedImageWriter.Create(source, bytes8, new DerivedImageOptions()));
        Assert.Contains("UInt16", ex.Message);
    }
}
