namespace Pipeline.Core.Domains;

/// <summary>
/// A domain of augmentation runs (mammography now, driving scenes next): what differs between datasets, behind the
/// generic orchestration and activities (docs/architecture.md, "The domain seam"). The Plan activity picks the domain
/// whose planner recognises the dataset and records its <see cref="Name"/> in plan.json; every later activity of the
/// run asks the same domain.
/// </summary>
public interface IRunDomain
{
    /// <summary>The name recorded in plan.json (e.g. "mammography").</summary>
    string Name { get; }

    /// <summary>Items from a dataset.</summary>
    IItemPlanner Planner { get; }

    /// <summary>An item's model inputs.</summary>
    IItemPreparer Preparer { get; }

    /// <summary>Outputs in the dataset's own format.</summary>
    IItemComposer Composer { get; }

    /// <summary>What is measured per item.</summary>
    IItemMeasurer Measurer { get; }
}
