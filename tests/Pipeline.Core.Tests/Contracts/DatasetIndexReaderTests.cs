using System.Text;
using System.Text.Json;
using Pipeline.Core.Contracts;

namespace Pipeline.Core.Tests.Contracts;

/// <summary>
/// The streaming index reader and the compact lists give back exactly the index that was written: the same JSON bytes
/// as the records, whatever the stream's read sizes (entries split across refills, an entry larger than the buffer),
/// and the same entries one by one; a truncated document is an error naming the blob.
/// </summary>
public class DatasetIndexReaderTests
{
    private static DatasetIndex Sample(int files)
    {
        var list = new List<DatasetFile>();
        var findings = new List<DatasetFinding>();
        for (int i = 0; i < files; i++)
        {
            string path = $"images/{i / 7:D4}/{i:D6}-é.dicom";
            string sha = i % 11 == 3 ? "" : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)));
            var image = i % 5 == 0 ? null : new DatasetImageFacts(100 + i, 200 + i, i % 3 == 0, i % 13 == 1 ? "cannot be opened: " + new string('x', i % 2 == 0 ? 40 : 20_000) : null);
            list.Add(new DatasetFile(path, 1000 + i, sha, i % 4 == 0 ? null : "application/dicom", i % 6 == 0 ? null : $"\"0x8DC{i:X}\"", image));
            for (int k = 0; k < i % 3; k++)
                findings.Add(new DatasetFinding(path, $"{i:D6}", 100 + i, 200 + i, k == 0 ? null : "Mass", k == 0 ? null : new BoundingBox(k, 2.5, 30.25 + i, 40),
                    i % 2 == 0 ? "training" : null, "L", i % 2 == 0 ? "CC" : "MLO", $"finding_annotations.csv:{i + k}"));
        }
        return new DatasetIndex
        {
            Dataset = "scale", FileCount = list.Count, TotalBytes = list.Sum(f => f.Size), Files = list,
            Problems = ["a: b", "c: d"], ValidatedWith = "decodePixels=True", AnnotationFormat = "VinDrMammo", Findings = findings,
        };
    }

    /// <summary>A stream that returns at most <paramref name="chunk"/> bytes per read.</summary>
    private sealed class Trickle(byte[] data, int chunk) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    public async Task Reads_back_the_same_index_whatever_the_read_sizes(int chunk)
    {
        var index = Sample(120);
        var json = PipelineJson.SerializeToUtf8Bytes(index);
        var read = await DatasetIndexReader.ReadAsync(new Trickle(json, chunk), "datasets/scale/_index.json");

        Assert.IsType<DatasetFileList>(read.Files);
        Assert.IsType<DatasetFindingList>(read.Findings);
        Assert.Equal(index.Files, read.Files); // record equality, entry by entry
        Assert.Equal(index.Findings!, read.Findings!);
        Assert.Equal(index.Problems, read.Problems);
        Assert.Equal(Encoding.UTF8.GetString(json), Encoding.UTF8.GetString(PipelineJson.SerializeToUtf8Bytes(read)));
        Assert.Equal(index.Files.Select(f => f.Path), read.FilePaths());
    }

    [Fact]
    public async Task An_index_without_findings_reads_with_null_findings_and_equals_the_deserialiser()
    {
        var index = Sample(9) with { Findings = null, ValidatedWith = null, AnnotationFormat = null };
        var json = PipelineJson.SerializeToUtf8Bytes(index);
        var read = await DatasetIndexReader.ReadAsync(new Trickle(json, 3), "x");
        var plain = PipelineJson.Deserialize<DatasetIndex>(json, "x");
        Assert.Null(read.Findings);
        Assert.Equal(plain.Files, read.Files);
        Assert.Equal(PipelineJson.SerializeToUtf8Bytes(plain), PipelineJson.SerializeToUtf8Bytes(read));
    }

    [Fact]
    public async Task A_truncated_index_is_an_error_naming_the_blob()
    {
        var json = PipelineJson.SerializeToUtf8Bytes(Sample(20));
        var e = await Assert.ThrowsAsync<JsonException>(() => DatasetIndexReader.ReadAsync(new MemoryStream(json[..(json.Length / 2)]), "datasets/scale/_index.json"));
        Assert.StartsWith("datasets/scale/_index.json: ", e.Message);
    }

    [Fact]
    public async Task A_missing_required_property_is_an_error()
    {
        var e = await Assert.ThrowsAsync<JsonException>(() => DatasetIndexReader.ReadAsync(new MemoryStream("""{"dataset":"d","fileCount":0,"files":[]}"""u8.ToArray()), "idx"));
        Assert.Contains("totalBytes", e.Message);
    }

    [Fact]
    public void The_compact_list_compares_paths_as_ordinal_strings_do()
    {
        string[] paths = ["a/b.dcm", "a/b.dcm.x", "a/c", "A/b", "images/é.dcm", "images/z.dcm"];
        var list = DatasetFileList.From(paths.Select(p => new DatasetFile(p, 1, "")));
        foreach (var (p, i) in paths.Select((p, i) => (p, i)))
            foreach (var q in paths.Append("a").Append("zz"))
                Assert.Equal(Math.Sign(string.CompareOrdinal(p, q)), Math.Sign(list.ComparePath(i, q)));
    }
}
