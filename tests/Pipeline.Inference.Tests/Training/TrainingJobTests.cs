using System.Security.Cryptography;
using System.Text.Json;
using Pipeline.Core.Training;
using Pipeline.Inference.Packages;

namespace Pipeline.Inference.Tests.Training;

/// <summary>
/// The Python training job as part of the test command: its own test suite (reading the C# training-data export,
/// the model against C#-prepared examples, ONNX export parity, interruption/resume) on a C# export, and a CI-sized
/// training run on a C# export whose package is checked from C#, including the preparation it carries into model.json.
/// </summary>
public sealed class TrainingJobTests
{
    [Fact]
    public async Task PythonTrainingSuitePasses()
    {
        var tmp = Directory.CreateTempSubdirectory("training-suite-").FullName;
        try
        {
            var (data, manifest) = await TrainingData.ExportAsync(tmp, resolution: 32, variants: 2);
            Assert.True(manifest.Splits[TrainingSplits.Train].Count >= 3, $"only {manifest.Splits[TrainingSplits.Train].Count} training examples");
            var r = PythonTrainingJob.Run(TimeSpan.FromMinutes(20), new Dictionary<string, string> { ["TRAINING_TEST_DATA"] = data },
                "-m", "unittest", "discover", "-s", "training/tests", "-p", "test_*.py", "-v");
            Assert.True(r.ExitCode == 0, $"python training tests failed (exit {r.ExitCode}):\n{r.Output}");
            Assert.Matches(@"Ran [1-9]\d* tests", r.Output);
            Assert.Contains("\nOK", r.Output);
        }
        finally
        {
            Directory.Delete(tmp, recursive: true);
        }
    }

    /// <summary>The committed demo model (models/mammo-tiny) loads, verifies and inserts a lesion in C#.</summary>
    [Fact]
    public async Task CommittedDemoModelInsertsALesion()
    {
        var dir = Path.Combine(PythonTrainingJob.RepoRoot, "models", "mammo-tiny");
        Assert.True(File.Exists(Path.Combine(dir, "model.json")), $"no demo model package at {dir}");
        await TrainedPackageSampling.AssertInsertsTheReferenceAsync(dir, steps: 25);
    }

    [Fact]
    public async Task CiSizedTrainingRunExportsAPackageThatTheCSharpSamplerRuns()
    {
        var tmp = Directory.CreateTempSubdirectory("training-ci-").FullName;
        try
        {
            var (data, manifest) = await TrainingData.ExportAsync(tmp, resolution: 64, variants: 2);
            var package = CiTraining.Run(tmp, data);
            var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(package, "model.json"))).RootElement;
            // the export's preparation travels into model.json, and the C# loader reads it back
            var loaded = await ModelPackage.LoadAsync(package);
            Assert.Equal(manifest.Preparation, loaded.Preparation);
            Assert.Equal(manifest.Preparation.CropRatioMax, json.GetProperty("preparation").GetProperty("cropRatio")[1].GetDouble());
            Assert.Equal(1, json.GetProperty("formatVersion").GetInt32());
            Assert.Equal("pixel", json.GetProperty("kind").GetString());
            Assert.Equal("model", json.GetProperty("inpainting").GetString());
            Assert.Equal(64, json.GetProperty("resolution").GetInt32());
            var schedule = json.GetProperty("schedule");
            Assert.Equal(1000, schedule.GetProperty("numTrainTimesteps").GetInt32());
            Assert.Equal("epsilon", schedule.GetProperty("predictionType").GetString());
            var denoiser = json.GetProperty("components").GetProperty("denoiser");
            var file = Path.Combine(package, denoiser.GetProperty("file").GetString()!);
            using (var stream = File.OpenRead(file))
            {
                var sha = Convert.ToHexStringLower(SHA256.HashData(stream));
                Assert.Equal(denoiser.GetProperty("sha256").GetString(), sha);
            }

            var roles = denoiser.GetProperty("inputs").EnumerateObject().Select(p => p.Name).Order().ToArray();
            Assert.Equal(new[] { "detailMap", "mask", "maskedContext", "reference", "sample", "timestep" }, roles);
            var training = json.GetProperty("training");
            Assert.Equal(30, training.GetProperty("steps").GetInt32());
            Assert.True(training.GetProperty("valLoss").GetDouble() > 0);

            // the C# loader (hash and graph-binding checks) and sampler (ONNX Runtime, DDIM) run the exported model
            await TrainedPackageSampling.AssertInsertsTheReferenceAsync(package, steps: 10);
        }
        finally
        {
            Directory.Delete(tmp, recursive: true);
        }
    }
}

/// <summary>The CI-sized run: a C# export of a few synthetic images, tens of steps, then the package.</summary>
internal static class CiTraining
{
    public static string Run(string workDir, string data)
    {
        var outDir = Path.Combine(workDir, "run");
        var train = PythonTrainingJob.Run(TimeSpan.FromMinutes(10), "training/train.py", "--data", data, "--out", outDir,
            "--max-minutes", "8", "--max-steps", "30", "--seed", "0", "--batch-size", "4",
            "--val-every", "15", "--ckpt-every", "15", "--proxy-items", "2", "--proxy-steps", "3");
        Assert.True(train.ExitCode == 0, $"training run failed (exit {train.ExitCode}):\n{train.Output}");
        var package = Path.Combine(outDir, "package");
        Assert.True(File.Exists(Path.Combine(package, "model.json")), $"no model.json in {package}:\n{train.Output}");
        return package;
    }
}
