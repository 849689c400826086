namespace Pipeline.Driving.Rendering;

/// <summary>Colour maps for pictures: a perceptually ordered blue-green-yellow ramp (viridis' control points, linearly interpolated).</summary>
public static class Colormap
{
    private static readonly (double R, double G, double B)[] Viridis =
    [
        (0.267, 0.005, 0.329), (0.283, 0.141, 0.458), (0.254, 0.265, 0.530), (0.207, 0.372, 0.553), (0.164, 0.471, 0.558),
        (0.128, 0.567, 0.551), (0.135, 0.659, 0.518), (0.267, 0.749, 0.441), (0.478, 0.821, 0.318), (0.741, 0.873, 0.150), (0.993, 0.906, 0.144),
    ];

    /// <summary>The colour of t ∈ [0, 1] (clamped).</summary>
    public static (byte R, byte G, byte B) Map(double t)
    {
        t = Math.Clamp(double.IsFinite(t) ? t : 0, 0, 1) * (Viridis.Length - 1);
        int i = Math.Min((int)t, Viridis.Length - 2);
        double f = t - i;
        var (a, b) = (Viridis[i], Viridis[i + 1]);
        return ((byte)Math.Round(255 * (a.R + (b.R - a.R) * f)), (byte)Math.Round(255 * (a.G + (b.G - a.G) * f)), (byte)Math.Round(255 * (a.B + (b.B - a.B) * f)));
    }
}
