using System.Text.Json;
using Pipeline.Core.Contracts;
using Pipeline.Core.Training;

namespace Pipeline.Cli.Tests.Training;

/// <summary><c>pipeline train-data export</c> through the parser: every pair kind from a synthetic dataset and
/// lesion-transfer folder, and clear usage errors.</summary>
[Collection("Console")]
public sealed class TrainDataCommandsTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("pipeline-cli-train-data-");

    public void Dispose() => _dir.Delete(true);

    [Fact]
    public async Task Export_writes_every_pair_kind_and_reports_them()
    {
        string data = Path.Combine(_dir.FullName, "mammo"), pairs = Path.Combine(_dir.FullName, "pairs"), output = Path.Combine(_dir.FullName, "tensors");
        Assert.Equal(0, (await CliConsole.RunAsync("synth", "mammo", "--count", "8", "--rows", "320", "--columns", "256", "--seed", "3", "--positive-fraction", "0.5", "--out", data)).Code);
        Assert.Equal(0, (await CliConsole.RunAsync("synth", "lesion-transfer", "--pairs", "3", "--seed", "4", "--out", pairs)).Code);
        var (code, stdout, stderr) = await CliConsole.RunAsync("train-data", "export", "--dataset", data, "--transfer-pairs", pairs, "--insertions", "1",
            "--out", output, "--resolution", "32", "--reference-size", "32", "--variants", "2", "--crop-ratio", "2.5,3.5", "--seed", "9");
        Assert.True(code == 0, stderr);
        var manifest = JsonSerializer.Deserialize<TrainingDataManifest>(File.ReadAllBytes(Path.Combine(output, TrainingDataManifest.FileName)), PipelineJson.Options)!;
        Assert.Equal((2.5, 3.5, 32), (manifest.Preparation.CropRatioMin, manifest.Preparation.CropRatioMax, manifest.Preparation.Resolution));
        var kinds = manifest.Splits.Values.SelectMany(s => s.PairKinds).GroupBy(k => k.Key).ToDictionary(g => g.Key, g => g.Sum(k => k.Value));
        Assert.True(kinds.GetValueOrDefault(TrainingPairKinds.Reinsertion) > 0 && kinds.GetValueOrDefault(TrainingPairKinds.LesionTransfer) > 0
                    && kinds.GetValueOrDefault(TrainingPairKinds.Insertion) > 0, string.Join(", ", kinds));
        Assert.Contains($"{manifest.Splits[TrainingSplits.Train].Count} train (", stdout);
        Assert.Contains("lesion-transfer", stdout);
        foreach (var split in manifest.Splits.Values)
            foreach (var tensor in split.Tensors.Values)
                Assert.True(File.Exists(Path.Combine(output, tensor.File)), tensor.File);
    }

    [Fact]
    public async Task Bad_options_are_usage_errors_naming_the_problem()
    {
        var (code, _, stderr) = await CliConsole.RunAsync("train-data", "export", "--dataset", _dir.FullName, "--out", Path.Combine(_dir.FullName, "x"), "--crop-ratio", "3");
        Assert.Equal(2, code);
        Assert.Contains("--crop-ratio '3': expected two numbers min,max", stderr);
        (code, _, stderr) = await CliConsole.RunAsync("train-data", "export", "--dataset", _dir.FullName, "--out", Path.Combine(_dir.FullName, "x"), "--insertions", "-1");
        Assert.Equal(2, code);
        Assert.Contains("insertions -1 must be >= 0", stderr);
        (code, _, stderr) = await CliConsole.RunAsync("train-data", "export", "--dataset", _dir.FullName, "--out", Path.Combine(_dir.FullName, "x"));
        Assert.Equal(2, code);
        Assert.Contains("has no annotation file", stderr);
    }
}
