using Pipeline.Core.Domains;

namespace Pipeline.Driving.Runs;

/// <summary>
/// The driving domain (MObI): nuScenes-format datasets of key frames with CAM_FRONT and LIDAR_TOP; items insert,
/// replace or reinsert a car or pedestrian in the camera image and the lidar sweep at once, consistent with a 3D box;
/// outputs are a nuScenes-format dataset of the edited frames (docs/driving.md, "Runs"; docs/architecture.md, "The
/// domain seam").
/// </summary>
public sealed class DrivingDomain : IRunDomain
{
    public const string DomainName = "driving";

    public DrivingDomain()
    {
        var datasets = new DrivingDatasets();
        Planner = new DrivingPlanner(datasets);
        Preparer = new DrivingPreparer(datasets);
        Composer = new DrivingComposer(datasets);
    }

    public string Name => DomainName;
    public IItemPlanner Planner { get; }
    public IItemPreparer Preparer { get; }
    public IItemComposer Composer { get; }
    public IItemMeasurer Measurer { get; } = new DrivingMeasurer();
}
