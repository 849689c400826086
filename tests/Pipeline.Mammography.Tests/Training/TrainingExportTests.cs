using System.Text.Json;
using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Core.Training;
using Pipeline.Imaging.Ingestion;
using Pipeline.Imaging.Synthetic;
using Pipeline.Mammography;
using Pipeline.Mammography.Planning;
using Pipeline.Mammography.Training;

namespace Pipeline.Mammography.Tests.Training;

/// <summary>
/// `pipeline train-data export` prepares examples with the inference code: each exported example equals what a run's
/// Preprocess (<see cref="MammographyPreparer"/>) makes of the same item, the export is reproducible from its seed, and
/// a bad image costs only its lesions.
/// </summary>
public sealed class TrainingExportTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("export-").FullName;
    private string Dataset => Path.Combine(_dir, "dataset");

    public async Task InitializeAsync() => await FolderBlobs.SyntheticAsync(Dataset);

    public Task DisposeAsync() { Directory.Delete(_dir, recursive: true); return Task.CompletedTask; }

    private static readonly TrainingExportOptions Options = new()
    {
        Preparation = PreparationSettings.Default with { Resolution = 32, ReferenceSize = 24, CropRatioMin = 2.5, CropRatioMax = 3.5, ReferenceExpand = 1.3 },
        Variants = 3, Seed = 11,
    };

    private static float[] Row(string file, int row, int length)
    {
        var bytes = File.ReadAllBytes(file);
        int header = 10 + BitConverter.ToUInt16(bytes, 8);
        var values = new float[length];
        Buffer.BlockCopy(bytes, header + row * length * 4, values, 0, length * 4);
        return values;
    }

    [Fact]
    public async Task Every_example_is_what_a_runs_preprocess_makes_of_the_item()
    {
        var output = Path.Combine(_dir, "out");
        var manifest = await MammographyTrainingExport.ExportAsync(Dataset, output, Options, null, CancellationToken.None);
        Assert.Equal(Options.Preparation, manifest.Preparation);
        Assert.Equal(MammographyDomain.DomainName, manifest.Domain);
        var preparer = new MammographyPreparer();
        foreach (var (name, split) in manifest.Splits)
        {
            Assert.True(split.Count > 0, $"{name} is empty");
            var items = JsonSerializer.Deserialize<List<TrainingExample>>(File.ReadAllBytes(Path.Combine(output, split.Items)), PipelineJson.Options)!;
            Assert.Equal(split.Count, items.Count);
            foreach (var example in items)
            {
                var item = new WorkItem
                {
                    ItemId = $"check-{example.Index}", Mode = TaskMode.Reinsertion, TargetImage = example.Image, ReferenceImage = example.ReferenceImage,
                    TargetBox = example.Box, ReferenceBox = example.ReferenceBox, ClassName = example.ClassName, Seed = example.Seed,
                };
                var prepared = await preparer.PrepareAsync(item, manifest.Preparation, new FolderBlobs(Dataset), CancellationToken.None);
                Assert.Equal(prepared.Geometry, example.Geometry);
                Assert.InRange(example.Geometry.Ratio, Options.Preparation.CropRatioMin, Options.Preparation.CropRatioMax);
                foreach (var tensor in new[] { ModelTensorNames.Original, ModelTensorNames.Context, ModelTensorNames.Mask, ModelTensorNames.Detail, ModelTensorNames.Reference })
                {
                    var expected = prepared.Tensors.Get(tensor, item.ItemId);
                    Assert.Equal(expected, Row(Path.Combine(output, split.Tensors[tensor].File), example.Index, expected.Length));
                }
            }
        }
        // training lesions have Variants examples with distinct ratios; validation lesions one
        var train = JsonSerializer.Deserialize<List<TrainingExample>>(File.ReadAllBytes(Path.Combine(output, manifest.Splits[TrainingSplits.Train].Items)), PipelineJson.Options)!;
        foreach (var lesion in train.GroupBy(e => (e.Image, e.Box)))
        {
            Assert.Equal(Options.Variants, lesion.Count());
            Assert.Equal(Options.Variants, lesion.Select(e => e.Geometry.Ratio).Distinct().Count());
        }
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_bytes_and_another_seed_other_crops()
    {
        var a = Path.Combine(_dir, "a");
        var b = Path.Combine(_dir, "b");
        var c = Path.Combine(_dir, "c");
        await MammographyTrainingExport.ExportAsync(Dataset, a, Options, null, CancellationToken.None);
        await MammographyTrainingExport.ExportAsync(Dataset, b, Options, null, CancellationToken.None);
        await MammographyTrainingExport.ExportAsync(Dataset, c, Options with { Seed = 12 }, null, CancellationToken.None);
        foreach (var file in Directory.EnumerateFiles(a, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(a, f)).Where(f => f != TrainingDataManifest.FileName))
            Assert.True(File.ReadAllBytes(Path.Combine(a, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, file))), $"{file} differs between two exports");
        Assert.False(File.ReadAllBytes(Path.Combine(a, "train", "original.npy")).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(c, "train", "original.npy"))));
    }

    [Fact]
    public async Task A_corrupt_image_costs_only_its_lesions_and_is_reported()
    {
        // a training image with a lesion (the export's own split rule), overwritten with garbage
        var findings = DatasetAnnotations.Parse(AnnotationFormat.VinDrMammo, DatasetAnnotations.VinDrFile,
            File.ReadAllText(Path.Combine(Dataset, DatasetAnnotations.VinDrFile)), []);
        var files = Directory.EnumerateFiles(Dataset, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Dataset, f)).ToHashSet();
        var images = DatasetImages.FromFindings(findings, "", files).Where(i => i.Findings.Count > 0).OrderBy(i => i.Path, StringComparer.Ordinal).ToList();
        var victim = MammographyTrainingExport.Split(images, Options.ValidationFraction).Train[0];
        File.WriteAllBytes(Path.Combine(Dataset, victim.Path), [1, 2, 3, 4]);
        var manifest = await MammographyTrainingExport.ExportAsync(Dataset, Path.Combine(_dir, "out"), Options, null, CancellationToken.None);
        Assert.Equal(victim.Findings.Count, manifest.Skipped.Count);
        Assert.All(manifest.Skipped, s => Assert.StartsWith(victim.ImageId + "#", s.Item));
        Assert.True(manifest.Splits.Values.Sum(s => s.Count) > 0);
    }

    private string Pairs => Path.Combine(_dir, "pairs");

    private static readonly LesionTransferOptions PairOptions = new() { Pairs = 5, Seed = 7, Rows = 320, Columns = 256, TestFraction = 0.3 };

    /// <summary>Transfer examples and insertion examples too are what a run's Preprocess makes of the same item (the
    /// transfer example's images relative to the pairs folder), with the reference cut from the other image.</summary>
    [Fact]
    public async Task Transfer_pairs_and_insertions_are_prepared_like_run_items()
    {
        await LesionTransferPairs.WriteToFolderAsync(PairOptions, Pairs);
        var output = Path.Combine(_dir, "mixed");
        var options = Options with { TransferPairs = Pairs, Insertions = 2 };
        var manifest = await MammographyTrainingExport.ExportAsync(Dataset, output, options, null, CancellationToken.None);
        Assert.Equal(Pairs, manifest.Source.TransferPairs);
        Assert.Equal(2, manifest.Source.Insertions);
        var pairRows = File.ReadAllLines(Path.Combine(Pairs, LesionTransferPairs.PairsFileName)).Skip(1).Where(l => l.Length > 0).ToList();
        int trainingPairs = pairRows.Count(l => l.EndsWith(",training", StringComparison.Ordinal));
        Assert.Equal(trainingPairs * options.Variants, manifest.Splits[TrainingSplits.Train].PairKinds.GetValueOrDefault(TrainingPairKinds.LesionTransfer));
        Assert.Equal(pairRows.Count - trainingPairs, manifest.Splits[TrainingSplits.Validation].PairKinds.GetValueOrDefault(TrainingPairKinds.LesionTransfer));
        Assert.True(manifest.Splits.Values.Sum(s => s.PairKinds.GetValueOrDefault(TrainingPairKinds.Insertion)) > 0, "no insertion examples");

        var files = Directory.EnumerateFiles(Dataset, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Dataset, f)).ToHashSet();
        var findings = DatasetAnnotations.Parse(AnnotationFormat.VinDrMammo, DatasetAnnotations.VinDrFile, File.ReadAllText(Path.Combine(Dataset, DatasetAnnotations.VinDrFile)), []);
        var lesionFree = DatasetImages.FromFindings(findings, "", files).Where(i => i.Findings.Count == 0).Select(i => i.Path).ToHashSet();
        var preparer = new MammographyPreparer();
        int transfer = 0, insertion = 0;
        foreach (var (name, split) in manifest.Splits)
        {
            var items = JsonSerializer.Deserialize<List<TrainingExample>>(File.ReadAllBytes(Path.Combine(output, split.Items)), PipelineJson.Options)!;
            foreach (var example in items.Where(e => e.Kind != TrainingPairKinds.Reinsertion))
            {
                var root = example.Source == TrainingExampleSources.TransferPairs ? Pairs : Dataset;
                Assert.NotEqual(example.Image, example.ReferenceImage);
                if (example.Kind == TrainingPairKinds.Insertion)
                {
                    insertion++;
                    Assert.Equal(TrainingExampleSources.Dataset, example.Source);
                    Assert.Contains(example.Image, lesionFree);
                    // the box has the reference lesion's size rounded up (InsertionSampler)
                    Assert.Equal(Math.Ceiling(example.ReferenceBox.Width), example.Box.Width);
                    Assert.Equal(Math.Ceiling(example.ReferenceBox.Height), example.Box.Height);
                }
                else transfer++;
                var item = new WorkItem
                {
                    ItemId = $"check-{example.Index}", Mode = TaskMode.Replacement, TargetImage = example.Image, ReferenceImage = example.ReferenceImage,
                    TargetBox = example.Box, ReferenceBox = example.ReferenceBox, ClassName = example.ClassName, Seed = example.Seed,
                };
                var prepared = await preparer.PrepareAsync(item, manifest.Preparation, new FolderBlobs(root), CancellationToken.None);
                Assert.Equal(prepared.Geometry, example.Geometry);
                foreach (var tensor in MammographyTrainingExport.ImageTensors)
                {
                    var expected = prepared.Tensors.Get(tensor, item.ItemId);
                    Assert.Equal(expected, Row(Path.Combine(output, split.Tensors[tensor].File), example.Index, expected.Length));
                }
                // the reference is the other image's: cut from the target image at the target box it differs
                var self = await preparer.PrepareAsync(item with { ReferenceImage = example.Image, ReferenceBox = example.Box }, manifest.Preparation, new FolderBlobs(root), CancellationToken.None);
                Assert.NotEqual(self.Tensors.Get(ModelTensorNames.Reference, item.ItemId), prepared.Tensors.Get(ModelTensorNames.Reference, item.ItemId));
            }
        }
        Assert.True(transfer > 0 && insertion > 0, $"{transfer} transfer, {insertion} insertion examples checked");
    }

    [Fact]
    public async Task Bad_transfer_pair_files_are_clear_errors()
    {
        await LesionTransferPairs.WriteToFolderAsync(new LesionTransferOptions { Pairs = 2, Seed = 7, Rows = 320, Columns = 256 }, Pairs);
        var file = Path.Combine(Pairs, LesionTransferPairs.PairsFileName);
        var lines = File.ReadAllLines(file);
        async Task<string> ErrorWith(string[] content)
        {
            File.WriteAllLines(file, content);
            var e = await Assert.ThrowsAsync<InvalidDataException>(() => MammographyTrainingExport.ExportAsync(Dataset, Path.Combine(_dir, "bad"), Options with { TransferPairs = Pairs }, null, CancellationToken.None));
            return e.Message;
        }
        var cells = lines[1].Split(',');
        var missing = (string[])cells.Clone();
        missing[7] = "no-such-image";
        Assert.Contains("row 1: target image 'no-such-image' is not in the folder's annotation file", await ErrorWith([lines[0], string.Join(',', missing)]));
        var same = (string[])cells.Clone();
        same[7] = same[2];
        Assert.Contains("row 1: reference and target are the same image", await ErrorWith([lines[0], string.Join(',', same)]));
        var badBox = (string[])cells.Clone();
        badBox[3] = "x";
        Assert.Contains("row 1: reference_xmin 'x' is not a number", await ErrorWith([lines[0], string.Join(',', badBox)]));
        File.Delete(file);
        var gone = await Assert.ThrowsAsync<FileNotFoundException>(() => MammographyTrainingExport.ExportAsync(Dataset, Path.Combine(_dir, "bad"), Options with { TransferPairs = Pairs }, null, CancellationToken.None));
        Assert.Contains("no lesion_transfer_pairs.csv", gone.Message);
    }

    [Fact]
    public async Task A_folder_without_annotations_is_a_clear_error()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => MammographyTrainingExport.ExportAsync(empty, Path.Combine(_dir, "x"), Options, null, CancellationToken.None));
        Assert.Contains("has no annotation file", e.Message);
        var bad = await Assert.ThrowsAsync<ArgumentException>(() => MammographyTrainingExport.ExportAsync(Dataset, Path.Combine(_dir, "y"), Options with { Variants = 0, Insertions = -1 }, null, CancellationToken.None));
        Assert.Contains("variants 0", bad.Message);
        Assert.Contains("insertions -1", bad.Message);
    }
}
