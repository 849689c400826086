namespace Pipeline.Driving.Synthetic;

/// <summary>Options of <see cref="SyntheticDrivingDataset"/>.</summary>
public sealed record SyntheticDrivingOptions
{
    public int Scenes { get; init; } = 2;
    /// <summary>Key frames per scene, 0.5 s apart (nuScenes annotates at 2 Hz).</summary>
    public int SamplesPerScene { get; init; } = 6;
    public ulong Seed { get; init; }
    /// <summary>CAM_FRONT image size; nuScenes' is 1600 x 900 (the intrinsics are scaled to the size).</summary>
    public int CameraWidth { get; init; } = 800;
    public int CameraHeight { get; init; } = 450;
    public int JpegQuality { get; init; } = 92;
    /// <summary>The version folder's name (the devkit's <c>version</c> argument).</summary>
    public string Version { get; init; } = "v1.0-synthetic";
    /// <summary>Cars and pedestrians within this horizontal distance of the ego are annotated, metres.</summary>
    public double AnnotationRange { get; init; } = 60;

    public void Validate()
    {
        if (Scenes is < 1 or > 1000) throw new ArgumentOutOfRangeException(nameof(Scenes), $"scenes must be 1-1000, got {Scenes}");
        if (SamplesPerScene is < 1 or > 200) throw new ArgumentOutOfRangeException(nameof(SamplesPerScene), $"samples per scene must be 1-200, got {SamplesPerScene}");
        if (CameraWidth is < 16 or > 4096 || CameraHeight is < 16 or > 4096) throw new ArgumentOutOfRangeException(nameof(CameraWidth), $"camera size must be 16-4096 pixels a side, got {CameraWidth}x{CameraHeight}");
        if (JpegQuality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(JpegQuality), $"JPEG quality must be 1-100, got {JpegQuality}");
        if (string.IsNullOrWhiteSpace(Version) || Version.IndexOfAny(['/', '\\']) >= 0) throw new ArgumentOutOfRangeException(nameof(Version), $"version must be a folder name, got '{Version}'");
    }
}

/// <summary>What was written.</summary>
public sealed record SyntheticDrivingSummary(string Version, int Scenes, int Samples, int Annotations, int Instances, int LidarPoints, IReadOnlyDictionary<string, int> AnnotationsByCategory);
