namespace Pipeline.Driving.RangeView;

/// <summary>
/// The range view's geometry (thesis §2.3.2, "Point cloud to range view transformation"): H = 32 beams at pitch
/// θ_k = 0.0232 x_k rad, x_k ∈ {-23, ..., 8} (the nuScenes HDL-32E's vertical layout), W = 1096 columns over
/// 360° of yaw, points kept at depth 1.4-54 m.
/// </summary>
public sealed record RangeViewOptions
{
    public const int DefaultHeight = 32;
    public const int DefaultWidth = 1096;

    public int Width { get; init; } = DefaultWidth;
    public double MinDepth { get; init; } = 1.4;
    public double MaxDepth { get; init; } = 54;
    public double BeamPitchStep { get; init; } = 0.0232;
    public int LowestBeam { get; init; } = -23;
    public int HighestBeam { get; init; } = 8;

    /// <summary>Rows: one per beam, the highest beam in row 0.</summary>
    public int Height => HighestBeam - LowestBeam + 1;
    public double MinPitch => BeamPitchStep * LowestBeam;
    public double MaxPitch => BeamPitchStep * HighestBeam;

    /// <summary>Pitch of the beam drawn in <paramref name="row"/>.</summary>
    public double BeamPitch(int row) => BeamPitchStep * (HighestBeam - row);

    public static RangeViewOptions NuScenes { get; } = new();

    public void Validate()
    {
        if (Width <= 0) throw new ArgumentOutOfRangeException(nameof(Width), $"range view width must be positive, got {Width}");
        if (HighestBeam <= LowestBeam) throw new ArgumentOutOfRangeException(nameof(HighestBeam), "the highest beam must be above the lowest");
        if (!(MinDepth > 0) || !(MaxDepth > MinDepth)) throw new ArgumentOutOfRangeException(nameof(MinDepth), $"depth range must be 0 < min < max, got {MinDepth}-{MaxDepth}");
        if (!(BeamPitchStep > 0)) throw new ArgumentOutOfRangeException(nameof(BeamPitchStep), "beam pitch step must be positive");
    }
}
