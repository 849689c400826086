using System.Security.Cryptography;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Synthetic;
using Pipeline.Imaging.Tests.Dicom;

namespace Pipeline.Imaging.Tests.Synthetic;

public class SyntheticMammoDatasetTests
{
    private static SyntheticMammoOptions Small(int count, ulong seed) => new() { Count = count, Seed = seed, Rows = 128, Columns = 104 };

    private static string Hash(SyntheticMammoImage i) => Convert.ToHexString(SHA256.HashData(DicomFileWriter.ToBytes(i.File)));

    [Fact]
    public void TheSameSeedGivesTheSameBytesAndTheFirstImagesDoNotDependOnTheCount()
    {
        var a = SyntheticMammoDataset.Generate(Small(5, 3)).Select(Hash).ToList();
        var b = SyntheticMammoDataset.Generate(Small(5, 3)).Select(Hash).ToList();
        var c = SyntheticMammoDataset.Generate(Small(3, 3)).Select(Hash).ToList();
        var d = SyntheticMammoDataset.Generate(Small(3, 4)).Select(Hash).ToList();
        Assert.Equal(a, b);
        Assert.Equal(a.Take(3), c);
        Assert.Empty(a.Intersect(d));
    }

    [Fact]
    public void ImagesCarryMammographyAttributesAndFourViewsPerStudy()
    {
        var images = SyntheticMammoDataset.Generate(Small(4, 9)).ToList();
        Assert.Single(images.Select(i => i.StudyId).Distinct());
        Assert.Equal(["L CC", "L MLO", "R CC", "R MLO"], images.Select(i => $"{i.Phantom.Spec.Side} {i.Phantom.Spec.View}"));
        var uids = new HashSet<string>();
        foreach (var img in images)
        {
            using var decoded = DicomImage.Read(DicomFileWriter.ToBytes(img.File), img.RelativePath);
            var a = decoded.Attributes;
            Assert.Equal("MG", a.Modality);
            Assert.Equal(img.Phantom.Spec.View.ToString(), a.ViewPosition);
            Assert.Equal(img.Phantom.Spec.Side.ToString(), a.ImageLaterality);
            Assert.Equal("FOR PRESENTATION", a.PresentationIntentType);
            Assert.Equal(14, a.BitsStored);
            Assert.Equal(2, a.WindowCenters.Length);
            Assert.NotNull(a.ImagerPixelSpacing);
            Assert.Equal(img.Phantom.Pixels, decoded.Stored.Pixels<ushort>().ToArray());
            Assert.True(DicomUid.IsValid(a.SopInstanceUid));
            Assert.True(uids.Add(a.SopInstanceUid!));
        }
        // R images are mirrored: the chest wall (tissue at the border) is on the right
        var r = images[2].Phantom;
        int w = r.Spec.Columns, mid = r.Spec.Rows / 2;
        Assert.True(r.Pixels[mid * w + w - 1] > 0);
        Assert.Equal(0, r.Pixels[mid * w]);
    }

    [Fact]
    public async Task WrittenDatasetHasVinDrCsvAndDcmdumpReadsItsFilesCleanly()
    {
        var dir = TestDicom.TempDir();
        var options = Small(4, 21);
        options.PositiveFraction = 1;
        var summary = await SyntheticMammoDataset.WriteToFolderAsync(options, dir);
        var lines = File.ReadAllLines(Path.Combine(dir, SyntheticMammoDataset.AnnotationFileName));
        Assert.Equal(string.Join(',', SyntheticMammoDataset.CsvColumns), lines[0]);
        Assert.Equal(summary.Findings, lines.Skip(1).Count(l => !l.Contains("No Finding")));
        Assert.True(summary.Findings >= 4);
        foreach (var f in Directory.GetFiles(Path.Combine(dir, "images"), "*.dicom", SearchOption.AllDirectories))
        {
            var (code, output, err) = TestDicom.Run("dcmdump", "+E", f);
            Assert.True(code == 0 && err.Trim().Length == 0, err);
            Assert.DoesNotContain("W: ", output);
        }
        Directory.Delete(dir, true);
    }

    [Fact]
    public void InvalidOptionsAreRejectedWithTheirName()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticMammoDataset.Generate(new SyntheticMammoOptions { Count = 0 }).ToList());
        Assert.Contains("Count", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticMammoDataset.Generate(new SyntheticMammoOptions { Rows = 10 }).ToList());
    }
}
