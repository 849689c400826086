using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Imaging.Ingestion;
using Pipeline.Mammography.Planning;

namespace Pipeline.Mammography.Tests.Planning;

/// <summary>The domain's planner on a dataset: from its annotation file or from the findings ingestion resolved into the
/// index (the same items either way), rows naming absent images reported, a dataset without annotations rejected.</summary>
public sealed class MammographyPlannerTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mammo-planner-").FullName;
    private FolderBlobs _blobs = null!;

    public async Task InitializeAsync() => _blobs = await FolderBlobs.SyntheticAsync(_dir);

    public Task DisposeAsync() { Directory.Delete(_dir, recursive: true); return Task.CompletedTask; }

    private static readonly AugmentationRequest Request = new()
    {
        Dataset = "d", Model = "models/m/1", Seed = 11,
        Tasks = [new AugmentationTask { Mode = TaskMode.Reinsertion, Count = 3 }, new AugmentationTask { Mode = TaskMode.Insertion, Count = 2 }],
    };

    [Fact]
    public async Task The_annotation_file_and_the_resolved_index_findings_give_the_same_items()
    {
        var planner = new MammographyPlanner();
        var paths = _blobs.Paths();
        var fromFile = new DatasetFiles("d", "", paths);
        Assert.True(planner.Recognizes(fromFile));
        var a = await planner.PlanAsync(Request, fromFile, _blobs, CancellationToken.None);
        Assert.Empty(a.Problems);
        Assert.Equal(5, a.Items.Count);
        Assert.All(a.Items, i => Assert.Contains(i.TargetImage, paths));

        var rows = DatasetAnnotations.Parse(AnnotationFormat.VinDrMammo, DatasetAnnotations.VinDrFile, File.ReadAllText(Path.Combine(_dir, DatasetAnnotations.VinDrFile)), []);
        var resolved = rows.Select(r => new DatasetFinding(r.ImagePath, r.ImageId, r.Width ?? 0, r.Height ?? 0, r.ClassName,
            r.Box is { } b ? new BoundingBox(b[0], b[1], b[2], b[3]) : null, r.Split)).ToList();
        var fromIndex = new DatasetFiles("d", "", paths.Where(p => p != DatasetAnnotations.VinDrFile).ToHashSet(), resolved);
        Assert.True(planner.Recognizes(fromIndex));
        var b2 = await planner.PlanAsync(Request, fromIndex, _blobs, CancellationToken.None);
        Assert.Equal(a.Items, b2.Items);
    }

    [Fact]
    public async Task Rows_for_missing_images_are_warnings_and_no_annotations_is_a_rejection()
    {
        var planner = new MammographyPlanner();
        var paths = _blobs.Paths().ToHashSet();
        var gone = paths.First(p => p.EndsWith(".dicom", StringComparison.Ordinal));
        paths.Remove(gone);
        var planned = await planner.PlanAsync(Request, new DatasetFiles("d", "", paths), _blobs, CancellationToken.None);
        Assert.Contains(planned.Warnings, w => w.Contains($"image {gone} is not in the dataset", StringComparison.Ordinal));
        Assert.DoesNotContain(planned.Items, i => i.TargetImage == gone || i.ReferenceImage == gone);

        var bare = new DatasetFiles("d", "", paths.Where(p => p != DatasetAnnotations.VinDrFile).ToHashSet());
        Assert.False(planner.Recognizes(bare));
        var rejected = await planner.PlanAsync(Request, bare, _blobs, CancellationToken.None);
        Assert.Empty(rejected.Items);
        Assert.Contains("dataset 'd' has no annotations: expected finding_annotations.csv", Assert.Single(rejected.Problems));
    }
}
