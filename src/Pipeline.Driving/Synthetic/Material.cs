namespace Pipeline.Driving.Synthetic;

/// <summary>How a surface looks to the camera (linear RGB albedo, 0-1) and to the lidar (intensity 0-255 at normal incidence).</summary>
public readonly record struct Material(string Name, double R, double G, double B, double Intensity)
{
    public static readonly Material Asphalt = new("asphalt", 0.22, 0.22, 0.23, 9);
    public static readonly Material LaneWhite = new("lane-white", 0.85, 0.85, 0.82, 180);
    public static readonly Material LaneYellow = new("lane-yellow", 0.85, 0.68, 0.15, 150);
    public static readonly Material Sidewalk = new("sidewalk", 0.55, 0.54, 0.52, 28);
    public static readonly Material Grass = new("grass", 0.22, 0.42, 0.16, 20);
    public static readonly Material Glass = new("glass", 0.10, 0.13, 0.17, 4);
    public static readonly Material Tyre = new("tyre", 0.05, 0.05, 0.05, 3);
    public static readonly Material HeadLight = new("head-light", 0.95, 0.93, 0.80, 120);
    public static readonly Material TailLight = new("tail-light", 0.75, 0.05, 0.05, 90);
    public static readonly Material Skin = new("skin", 0.78, 0.58, 0.45, 18);
    public static readonly Material Trousers = new("trousers", 0.12, 0.14, 0.25, 12);

    /// <summary>Car paints: white, black, silver, red, blue, dark green, yellow, grey, orange.</summary>
    public static readonly Material[] CarPaints =
    [
        new("paint-white", 0.88, 0.88, 0.86, 60), new("paint-black", 0.04, 0.04, 0.05, 12), new("paint-silver", 0.62, 0.63, 0.65, 45),
        new("paint-red", 0.70, 0.06, 0.07, 35), new("paint-blue", 0.08, 0.18, 0.60, 30), new("paint-green", 0.06, 0.30, 0.14, 26),
        new("paint-yellow", 0.90, 0.75, 0.10, 50), new("paint-grey", 0.32, 0.33, 0.35, 28), new("paint-orange", 0.90, 0.40, 0.08, 40),
    ];

    public static readonly Material[] Shirts =
    [
        new("shirt-red", 0.75, 0.12, 0.10, 20), new("shirt-white", 0.85, 0.85, 0.85, 30), new("shirt-green", 0.15, 0.55, 0.25, 18),
        new("shirt-blue", 0.15, 0.30, 0.70, 16), new("shirt-black", 0.05, 0.05, 0.06, 8), new("shirt-yellow", 0.90, 0.80, 0.20, 24),
    ];

    public static readonly Material[] Facades =
    [
        new("brick", 0.55, 0.27, 0.20, 32), new("concrete", 0.62, 0.60, 0.56, 38), new("render-cream", 0.82, 0.76, 0.62, 42),
        new("stone", 0.48, 0.46, 0.42, 30), new("render-blue", 0.45, 0.55, 0.66, 35),
    ];
}
