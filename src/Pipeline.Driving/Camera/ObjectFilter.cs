namespace Pipeline.Driving.Camera;

/// <summary>
/// MObI's object filters (thesis §2.3.6): an object is used for training and evaluation only if it has at least 64
/// lidar points, its 2D box is at least 100 x 100 px at nuScenes resolution (1600 x 900), its 2D IoU with any other
/// object's 2D box is at most 50% and its camera visibility is at least 70%.
/// </summary>
public sealed record ObjectFilterOptions
{
    public int MinLidarPoints { get; init; } = 64;
    public double MinBoxSide { get; init; } = 100;
    /// <summary>Image width at which MinBoxSide applies; boxes in smaller images are scaled up before the check.</summary>
    public int ReferenceWidth { get; init; } = 1600;
    public double MaxIoU { get; init; } = 0.5;
    public double MinVisibility { get; init; } = 0.7;
}

/// <summary>One object as the filters see it.</summary>
public sealed record FilterCandidate(string Token, int LidarPoints, ProjectedBox Projection, double Visibility);

/// <summary>Why an object was kept or refused.</summary>
public sealed record FilterDecision(string Token, bool Keep, string Reason, double MaxIoU);

public static class ObjectFilter
{
    /// <summary>
    /// Applies the four filters to every candidate of one camera image. The 2D box is the projected box clipped to
    /// the image; the IoU is the largest against any other candidate in the same image.
    /// </summary>
    public static IReadOnlyList<FilterDecision> Apply(IReadOnlyList<FilterCandidate> candidates, int imageWidth, ObjectFilterOptions? options = null)
    {
        options ??= new ObjectFilterOptions();
        double scale = (double)options.ReferenceWidth / imageWidth;
        var result = new List<FilterDecision>(candidates.Count);
        for (int i = 0; i < candidates.Count; i++)
        {
            var c = candidates[i];
            double maxIoU = 0;
            for (int j = 0; j < candidates.Count; j++)
                if (j != i && candidates[j].Projection.InFront)
                    maxIoU = Math.Max(maxIoU, c.Projection.ClippedBounds.IoU(candidates[j].Projection.ClippedBounds));
            var box = c.Projection.ClippedBounds.Scaled(scale, scale);
            string? reason =
                !c.Projection.InFront ? "box not entirely in front of the camera" :
                c.LidarPoints < options.MinLidarPoints ? $"{c.LidarPoints} lidar points < {options.MinLidarPoints}" :
                box.Width < options.MinBoxSide || box.Height < options.MinBoxSide ? $"2D box {box.Width:0}x{box.Height:0} px (at {options.ReferenceWidth} px wide) < {options.MinBoxSide}x{options.MinBoxSide}" :
                maxIoU > options.MaxIoU ? $"2D IoU {maxIoU:0.00} with another object > {options.MaxIoU:0.00}" :
                c.Visibility < options.MinVisibility ? $"visibility {c.Visibility:0.00} < {options.MinVisibility:0.00}" :
                null;
            result.Add(new FilterDecision(c.Token, reason is null, reason ?? "kept", maxIoU));
        }
        return result;
    }
}
