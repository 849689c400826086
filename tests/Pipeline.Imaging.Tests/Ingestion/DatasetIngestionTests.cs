using System.Text;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;
using Pipeline.Imaging.Ingestion;
using Pipeline.Imaging.Synthetic;
using Pipeline.Imaging.Tests.Dicom;

namespace Pipeline.Imaging.Tests.Ingestion;

public class DatasetIngestionTests
{
    private static async Task<(string Dir, SyntheticMammoSummary Summary)> SyntheticAsync(int count = 8)
    {
        var dir = TestDicom.TempDir();
        var summary = await SyntheticMammoDataset.WriteToFolderAsync(new SyntheticMammoOptions { Count = count, Seed = 11, Rows = 160, Columns = 130 }, dir);
        return (dir, summary);
    }

    [Fact]
    public async Task SyntheticVinDrDatasetValidatesWithItsClassCountsAndAnIndexOfEveryFile()
    {
        var (dir, summary) = await SyntheticAsync();
        var result = await DatasetIngestion.RunAsync(new FolderDatasetSource(dir));
        var r = result.Report;
        Assert.True(r.IsValid, string.Join("\n", r.Errors));
        Assert.Equal("VinDrMammo", r.AnnotationFormat);
        Assert.Equal(8, r.ReferencedImages);
        Assert.Equal(8, r.ValidImages);
        Assert.Equal(summary.Findings, r.Findings);
        Assert.Equal(summary.FindingsByCategory.OrderBy(kv => kv.Key), r.ClassCounts.OrderBy(kv => kv.Key));
        foreach (var (cls, stats) in r.BoxStatistics) Assert.True(stats.MinWidth > 0 && stats.MaxWidth >= stats.MeanWidth, cls);
        Assert.Equal(10, result.Index.FileCount); // 8 images + CSV + truth JSON
        Assert.Equal(result.Index.Files.Select(f => f.Path).Order(StringComparer.Ordinal), result.Index.Files.Select(f => f.Path));
        Assert.All(result.Index.Files, f => Assert.Equal(64, f.Sha256.Length));
        Assert.Empty(result.Index.Problems);
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task ReingestionReadsOnlyTheFilesThatChangedAndAgreesWithAFullRun()
    {
        var (dir, _) = await SyntheticAsync();
        var first = await DatasetIngestion.RunAsync(new FolderDatasetSource(dir));
        Assert.Equal(0, first.ReusedFiles);
        Assert.All(first.Index.Files, f => Assert.NotNull(f.ETag));
        Assert.Equal(8, first.Index.Files.Count(f => f.Image is { OpenError: null }));

        // Unchanged: nothing is read again, and the result is the same.
        var again = await DatasetIngestion.RunAsync(new FolderDatasetSource(dir), previous: first.Index);
        Assert.Equal(first.Index.FileCount, again.ReusedFiles);
        Assert.Equal(first.Index.Files, again.Index.Files);

        // One image replaced by a broken one: exactly that file is read, and the problem appears as in a full run.
        var images = Directory.GetFiles(Path.Combine(dir, "images"), "*.dicom", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        File.WriteAllText(images[4], "not a DICOM file");
        File.SetLastWriteTimeUtc(images[4], DateTime.UtcNow.AddMinutes(1));
        var incremental = await DatasetIngestion.RunAsync(new FolderDatasetSource(dir), previous: again.Index);
        var full = await DatasetIngestion.RunAsync(new FolderDatasetSource(dir));
        Assert.Equal(first.Index.FileCount - 1, incremental.ReusedFiles);
        Assert.Equal(full.Index.Files, incremental.Index.Files);
        Assert.Equal(full.Index.Problems, incremental.Index.Problems);
        Assert.Equal(full.Report.Errors, incremental.Report.Errors);
        Assert.Equal(7, incremental.Report.ValidImages);
        Assert.Contains(incremental.Report.Errors, e => e.Path.EndsWith(Path.GetFileName(images[4]), StringComparison.Ordinal) && e.Message.StartsWith("cannot be opened", StringComparison.Ordinal));

        // Other validation settings: nothing is reused.
        var header = await DatasetIngestion.RunAsync(new FolderDatasetSource(dir), new DatasetIngestionOptions { DecodePixels = false }, previous: incremental.Index);
        Assert.Equal(0, header.ReusedFiles);
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task BrokenFilesAreListedPerFileAndNeverFatal()
    {
        var (dir, _) = await SyntheticAsync();
        var images = Directory.GetFiles(Path.Combine(dir, "images"), "*.dicom", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        // 1: truncated file
        var bytes = File.ReadAllBytes(images[0]);
        File.WriteAllBytes(images[0], bytes[..(bytes.Length / 3)]);
        // 2: not DICOM at all
        File.WriteAllText(images[1], "hello");
        // 3: annotation claims another size; 4: a referenced file that does not exist; 5: a box outside the image
        var csvPath = Path.Combine(dir, SyntheticMammoDataset.AnnotationFileName);
        var lines = File.ReadAllLines(csvPath).ToList();
        string id2 = Path.GetFileNameWithoutExtension(images[2]);
        lines = lines.Select(l => l.Contains(id2) ? l.Replace(",160,130,", ",161,130,") : l).ToList();
        lines.Add("s-missing,x,img-missing,L,CC,160,130,BI-RADS 1,DENSITY A,['No Finding'],,,,,,training");
        var study3 = Path.GetFileName(Path.GetDirectoryName(images[3]))!;
        lines.Add($"{study3},x,{Path.GetFileNameWithoutExtension(images[3])},L,CC,160,130,BI-RADS 4,DENSITY A,\"['Mass', 'Suspicious Calcification']\",BI-RADS 4,100,100,200,120,training");
        lines.Add("s,x,,L,CC,160,130,BI-RADS 1,DENSITY A,['Mass'],,1,2,0,4,training");
        File.WriteAllLines(csvPath, lines);

        var r = (await DatasetIngestion.RunAsync(new FolderDatasetSource(dir))).Report;
        Assert.False(r.IsValid);
        string Rel(string p) => Path.GetRelativePath(dir, p).Replace('\\', '/');
        Assert.Contains(r.Errors, e => e.Path == Rel(images[0]) && e.Message.Contains("cannot be opened"));
        Assert.Contains(r.Errors, e => e.Path == Rel(images[1]) && e.Message.Contains("not a DICOM file"));
        Assert.Contains(r.Errors, e => e.Path == Rel(images[2]) && e.Message.Contains("annotated as 130x161"));
        Assert.Contains(r.Errors, e => e.Path == "images/s-missing/img-missing.dicom" && e.Message.Contains("not in the dataset"));
        Assert.Contains(r.Errors, e => e.Path == Rel(images[3]) && e.Message.Contains("leaves the 130x160 image"));
        Assert.Contains(r.Errors, e => e.Path == SyntheticMammoDataset.AnnotationFileName && e.Message.Contains("empty study_id or image_id"));
        Assert.Equal(4, r.ValidImages); // 8 images - truncated - garbage - wrong size - box outside
        Assert.True(r.ClassCounts.ContainsKey("Suspicious Calcification"));
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task GenericCsvAndJsonFormatsWithPngImagesValidate()
    {
        foreach (var json in new[] { false, true })
        {
            var dir = TestDicom.TempDir();
            Directory.CreateDirectory(Path.Combine(dir, "png"));
            for (int i = 0; i < 3; i++)
            {
                using var img = ImageBuffer.Create(40 + i, 30, 1, PixelType.UInt8);
                File.WriteAllBytes(Path.Combine(dir, "png", $"img{i}.png"), PngCodec.Encode(img));
            }
            if (json)
                File.WriteAllText(Path.Combine(dir, "annotations.json"), """
                    {"images": [
                      {"file": "png/img0.png", "width": 40, "height": 30, "split": "train", "boxes": [{"class": "car", "box": [1, 2, 10, 12]}]},
                      {"file": "png/img1.png", "width": 41, "height": 30, "boxes": [{"class": "car", "box": [0, 0, 5, 5]}, {"class": "person", "box": [3, 3, 9, 20]}]},
                      {"file": "png/img2.png", "width": 42, "height": 30}
                    ]}
                    """);
            else
                File.WriteAllText(Path.Combine(dir, "annotations.csv"),
                    "file,width,height,class,x0,y0,x1,y1,split\npng/img0.png,40,30,car,1,2,10,12,train\npng/img1.png,41,30,car,0,0,5,5,\npng/img1.png,41,30,person,3,3,9,20,\npng/img2.png,42,30,,,,,,\n");
            var r = (await DatasetIngestion.RunAsync(new FolderDatasetSource(dir))).Report;
            Assert.True(r.IsValid, string.Join("\n", r.Errors));
            Assert.Equal(json ? "GenericJson" : "GenericCsv", r.AnnotationFormat);
            Assert.Equal(3, r.ValidImages);
            Assert.Equal(2, r.ClassCounts["car"]);
            Assert.Equal(1, r.ClassCounts["person"]);
            Assert.Equal(17, r.BoxStatistics["person"].MaxHeight);
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task APngWhoseSizeDiffersFromItsAnnotationIsNamedAndTheRestIndexed()
    {
        var dir = TestDicom.TempDir();
        Directory.CreateDirectory(Path.Combine(dir, "png"));
        for (int i = 0; i < 3; i++)
        {
            using var img = ImageBuffer.Create(40, 30, 1, PixelType.UInt16);
            File.WriteAllBytes(Path.Combine(dir, "png", $"img{i}.png"), PngCodec.Encode(img));
        }
        // img1 is 40x30 but annotated 48 wide
        File.WriteAllText(Path.Combine(dir, "annotations.csv"),
            "file,width,height,class,x0,y0,x1,y1\npng/img0.png,40,30,Mass,1,2,10,12\npng/img1.png,48,30,Mass,0,0,5,5\npng/img2.png,40,30,,,,,\n");
        var result = await DatasetIngestion.RunAsync(new FolderDatasetSource(dir));
        var r = result.Report;
        var error = Assert.Single(r.Errors);
        Assert.Equal("png/img1.png", error.Path);
        Assert.Contains("annotated as", error.Message);
        Assert.Equal(3, r.ReferencedImages);
        Assert.Equal(2, r.ValidImages);
        Assert.Equal(4, result.Index.FileCount); // every file is still indexed
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task MissingAnnotationFileIsReportedAndFilesAreStillIndexed()
    {
        var dir = TestDicom.TempDir();
        File.WriteAllText(Path.Combine(dir, "readme.txt"), "x");
        var result = await DatasetIngestion.RunAsync(new FolderDatasetSource(dir));
        Assert.Contains(result.Report.Errors, e => e.Message.Contains("no annotation file"));
        Assert.Equal(1, result.Index.FileCount);
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task AnnotationPathsThatClimbOutOfTheDatasetAreRefusedWithTheirRow()
    {
        var root = TestDicom.TempDir();
        var dir = Path.Combine(root, "ds");
        Directory.CreateDirectory(Path.Combine(dir, "png"));
        using (var img = ImageBuffer.Create(8, 6, 1, PixelType.UInt8))
        {
            File.WriteAllBytes(Path.Combine(dir, "png", "ok.png"), PngCodec.Encode(img));
            File.WriteAllBytes(Path.Combine(root, "outside.png"), PngCodec.Encode(img)); // exists, but outside the dataset
        }
        File.WriteAllText(Path.Combine(dir, "annotations.csv"), "file,width,height,class,x0,y0,x1,y1\n" +
            "png/ok.png,8,6,,,,,\n../outside.png,8,6,,,,,\npng/../../outside.png,8,6,,,,,\n/etc/passwd,8,6,,,,,\nC:\\x.png,8,6,,,,,\n");
        var result = await DatasetIngestion.RunAsync(new FolderDatasetSource(dir));
        var errors = result.Report.Errors.Select(e => $"{e.Path}|{e.Message}").ToList();
        Assert.Contains(errors, e => e.StartsWith("annotations.csv|annotations.csv:3: image path '../outside.png' climbs out of the dataset", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("annotations.csv|annotations.csv:4: image path 'png/../../outside.png' climbs out", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("annotations.csv|annotations.csv:5: image path '/etc/passwd' is absolute", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("annotations.csv|annotations.csv:6: image path 'C:\\x.png' is absolute", StringComparison.Ordinal));
        Assert.Equal(4, errors.Count);
        Assert.Equal(1, result.Report.ReferencedImages);
        Assert.Equal(1, result.Report.ValidImages);

        File.Delete(Path.Combine(dir, "annotations.csv"));
        File.WriteAllText(Path.Combine(dir, "annotations.json"), """{"images": [{"file": "png/ok.png"}, {"file": "../outside.png"}]}""");
        var json = (await DatasetIngestion.RunAsync(new FolderDatasetSource(dir))).Report;
        var e = Assert.Single(json.Errors);
        Assert.Equal("annotations.json: images[1]: image path '../outside.png' climbs out of the dataset ('..'); paths are relative to the dataset root", e.Message);
        Directory.Delete(root, true);
    }

    [Fact]
    public void VinDrCategoryListsParseLikePython()
    {
        Assert.Equal(["Mass", "Suspicious Calcification"], DatasetAnnotations.ParseCategories("['Mass', 'Suspicious Calcification']"));
        Assert.Equal(["No Finding"], DatasetAnnotations.ParseCategories("['No Finding']"));
    }
}
