using Pipeline.Imaging.Synthetic;

namespace Pipeline.Driving.Insertion;

/// <summary>A frame of an object's track that may serve as its reference: its index in scene order and its sample.</summary>
public sealed record TrackFrame(int Index, string SampleToken, string AnnotationToken);

/// <summary>
/// MObI's tracked reference (thesis §2.3.1, "Reference selection"): another timestamp of the same track, among frames
/// that pass the object filters. Δt is the normalised temporal distance (0 = the current frame, 1 = the furthest
/// candidate); u ~ Beta(4, 1), which favours distant frames, and the candidate whose Δt is nearest u is taken
/// (ties: the earlier frame). Beta(a, 1) has CDF x^a, so u = U^(1/4) for U uniform on [0, 1).
/// </summary>
public static class ReferenceSelection
{
    public const double BetaA = 4;

    /// <summary>u ~ Beta(4, 1) by inversion.</summary>
    public static double DrawDeltaT(PhantomRandom random) => Math.Pow(random.NextDouble(), 1 / BetaA);

    /// <summary>Normalised temporal distances of the candidates from <paramref name="current"/> (0 when all are at the same index).</summary>
    public static double[] DeltaT(IReadOnlyList<TrackFrame> candidates, int current)
    {
        double max = candidates.Count == 0 ? 0 : candidates.Max(c => Math.Abs(c.Index - current));
        return candidates.Select(c => max == 0 ? 0 : Math.Abs(c.Index - current) / max).ToArray();
    }

    /// <summary>The reference frame for <paramref name="current"/> with its Δt, or null when the track has no other frame.</summary>
    public static (TrackFrame Frame, double DeltaT)? Pick(IReadOnlyList<TrackFrame> track, int current, PhantomRandom random)
    {
        var candidates = track.Where(f => f.Index != current).OrderBy(f => f.Index).ToList();
        if (candidates.Count == 0) return null;
        var dt = DeltaT(candidates, current);
        double u = DrawDeltaT(random);
        int best = 0;
        for (int i = 1; i < candidates.Count; i++) if (Math.Abs(dt[i] - u) < Math.Abs(dt[best] - u)) best = i;
        return (candidates[best], dt[best]);
    }
}
