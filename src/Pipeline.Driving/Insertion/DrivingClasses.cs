namespace Pipeline.Driving.Insertion;

/// <summary>MObI's two classes (thesis §2.4.1): "car" and "pedestrian", from nuScenes category names.</summary>
public static class DrivingClasses
{
    public const string Car = "car", Pedestrian = "pedestrian";

    /// <summary>The MObI class of a nuScenes category (vehicle.car, human.pedestrian.*), or null for every other category.</summary>
    public static string? Of(string category) =>
        category == "vehicle.car" ? Car : category.StartsWith("human.pedestrian", StringComparison.Ordinal) ? Pedestrian : null;

    /// <summary>0 for car, 1 for pedestrian, -1 otherwise (the training export's class column).</summary>
    public static int Index(string? mobiClass) => mobiClass switch { Car => 0, Pedestrian => 1, _ => -1 };
}
