using Pipeline.Driving.Synthetic;

namespace Pipeline.Driving.Tests;

/// <summary>One small synthetic dataset (1 scene, 3 key frames, 192 x 108 camera) shared by a test class, deleted afterwards.</summary>
public sealed class SyntheticDatasetFixture : IAsyncLifetime
{
    public static readonly SyntheticDrivingOptions Options = new() { Scenes = 1, SamplesPerScene = 3, Seed = 7, CameraWidth = 192, CameraHeight = 108 };

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "driving-tests-" + Guid.NewGuid().ToString("N")[..8]);
    public SyntheticDrivingSummary Summary { get; private set; } = null!;

    public async Task InitializeAsync() => Summary = await SyntheticDrivingDataset.WriteToFolderAsync(Options, Folder);

    public Task DisposeAsync()
    {
        if (Directory.Exists(Folder)) Directory.Delete(Folder, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>A copy of the dataset to damage.</summary>
    public string Copy()
    {
        var target = Folder + "-copy-" + Guid.NewGuid().ToString("N")[..6];
        foreach (var f in Directory.EnumerateFiles(Folder, "*", SearchOption.AllDirectories))
        {
            var dst = Path.Combine(target, Path.GetRelativePath(Folder, f));
            Directory.CreateDirectory(Path.GetDirectoryName(dst)!);
            File.Copy(f, dst);
        }
        return target;
    }
}
