using Pipeline.Core.Domains;
using Pipeline.Mammography.Planning;

namespace Pipeline.Mammography;

/// <summary>
/// The mammography domain (AnydoorMed): DICOM mammograms annotated with lesion boxes (VinDr-Mammo and generic
/// CSV/JSON annotation files); items insert, replace or reinsert a lesion; outputs are derived DICOMs plus a VinDr-style
/// annotation file (docs/architecture.md, "The domain seam").
/// </summary>
public sealed class MammographyDomain : IRunDomain
{
    public const string DomainName = "mammography";

    public string Name => DomainName;
    public IItemPlanner Planner { get; } = new MammographyPlanner();
    public IItemPreparer Preparer { get; } = new MammographyPreparer();
    public IItemComposer Composer { get; } = new MammographyComposer();
    public IItemMeasurer Measurer { get; } = new MammographyMeasurer();
}
