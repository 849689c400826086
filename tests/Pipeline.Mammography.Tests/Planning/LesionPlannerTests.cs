using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Mammography.Planning;

namespace Pipeline.Mammography.Tests.Planning;

/// <summary>How a run's items are chosen: deterministic in the seed, each task mode's rule, and clear rejections.</summary>
public class LesionPlannerTests
{
    private static readonly BoundingBox Small = new(10, 10, 20, 20), Similar = new(40, 40, 50.5, 51), Large = new(10, 10, 60, 60);

    private static readonly IReadOnlyList<AnnotatedImage> Images =
    [
        new("a", "a.dcm", 200, 160, [new Finding("Mass", Small), new Finding("Mass", Large)]),
        new("b", "b.dcm", 200, 160, [new Finding("Mass", Similar), new Finding("Focal Asymmetry", new BoundingBox(5, 5, 30, 25))]),
        new("h", "h.dcm", 200, 160, []),
    ];

    /// <summary>The healthy image's tissue: a block in the middle (x 60-139, y 40-119).</summary>
    private static Task<InsertionSite> Site(AnnotatedImage image, CancellationToken cancellationToken)
    {
        var fg = new byte[image.Width * image.Height];
        for (int y = 40; y < 120; y++) for (int x = 60; x < 140; x++) fg[y * image.Width + x] = 1;
        return Task.FromResult(new InsertionSite(fg, image.Width, image.Height));
    }

    private static AugmentationRequest Request(long seed, params AugmentationTask[] tasks) => new() { Dataset = "d", Model = "models/m/1", Seed = seed, Tasks = tasks };

    private static Task<PlannedItems> Plan(AugmentationRequest request) => LesionPlanner.PlanAsync(request, Images, Site, CancellationToken.None);

    [Fact]
    public async Task The_same_seed_gives_the_same_items_and_another_seed_another_order()
    {
        var request = Request(5, new AugmentationTask { Mode = TaskMode.Reinsertion, Count = 4 }, new AugmentationTask { Mode = TaskMode.Insertion, Count = 3 });
        var a = await Plan(request);
        var b = await Plan(request);
        Assert.Equal(a.Items, b.Items);
        Assert.Equal(["t0-000000", "t0-000001", "t0-000002", "t0-000003", "t1-000000", "t1-000001", "t1-000002"], a.Items.Select(i => i.ItemId));
        Assert.Equal(a.Items.Count, a.Items.Select(i => i.Seed).Distinct().Count());
        var c = await Plan(request with { Seed = 6 });
        Assert.NotEqual(a.Items.Select(i => i.Seed), c.Items.Select(i => i.Seed));
    }

    [Fact]
    public async Task Reinsertion_regenerates_a_lesion_from_itself_cycling_when_asked_for_more()
    {
        var planned = await Plan(Request(1, new AugmentationTask { Mode = TaskMode.Reinsertion, Count = 6 }));
        Assert.Equal(6, planned.Items.Count);
        Assert.All(planned.Items, i => Assert.Equal((i.TargetImage, i.TargetBox), (i.ReferenceImage, i.ReferenceBox)));
        Assert.All(planned.Items, i => Assert.Null(i.OtherFindings));
        // 4 lesions, 6 items: every lesion once before any repeats
        Assert.Equal(4, planned.Items.Take(4).Select(i => (i.TargetImage, i.TargetBox)).Distinct().Count());
        Assert.Empty(planned.Shortfalls);
    }

    [Fact]
    public async Task Replacement_puts_a_lesion_onto_a_similar_sized_lesion_of_another_image()
    {
        var planned = await Plan(Request(2, new AugmentationTask { Mode = TaskMode.Replacement, Targets = new Dictionary<string, int> { ["Mass"] = 3 } }));
        Assert.NotEmpty(planned.Items);
        foreach (var i in planned.Items)
        {
            Assert.NotEqual(i.TargetImage, i.ReferenceImage);
            Assert.InRange(i.TargetBox.Width / i.ReferenceBox.Width, 1 / 1.15, 1.15);
            Assert.InRange(i.TargetBox.Height / i.ReferenceBox.Height, 1 / 1.15, 1.15);
            Assert.Equal("Mass", i.ClassName);
            // the target image's other findings travel with the item, so the tissue donor stays clear of them
            var others = Images.Single(im => im.Path == i.TargetImage).Findings.Select(f => f.Box).Where(box => box != i.TargetBox).ToList();
            Assert.NotEmpty(others);
            Assert.Equal(others, i.OtherFindings);
        }
        // the large mass has no partner within 15%: the planner says how many it could make
        Assert.All(planned.Shortfalls, s => Assert.Contains("no lesion of similar size", s));
    }

    [Fact]
    public async Task Insertion_goes_into_the_healthy_image_inside_its_tissue_at_the_reference_size()
    {
        var planned = await Plan(Request(3, new AugmentationTask { Mode = TaskMode.Insertion, Count = 5 }));
        Assert.Equal(5, planned.Items.Count);
        foreach (var i in planned.Items)
        {
            Assert.Equal("h.dcm", i.TargetImage);
            Assert.Equal((Math.Ceiling(i.ReferenceBox.Width), Math.Ceiling(i.ReferenceBox.Height)), (i.TargetBox.Width, i.TargetBox.Height));
            if (i.TargetBox.Width <= 80 && i.TargetBox.Height <= 80)
            {
                // a box that fits the tissue block is inside it
                Assert.InRange(i.TargetBox.X0, 60, 140 - i.TargetBox.Width);
                Assert.InRange(i.TargetBox.Y0, 40, 120 - i.TargetBox.Height);
            }
        }
    }

    [Fact]
    public async Task Requests_the_dataset_cannot_serve_are_rejected_with_the_reason()
    {
        var planned = await Plan(Request(1, new AugmentationTask { Mode = TaskMode.Reinsertion, Targets = new Dictionary<string, int> { ["Architectural Distortion"] = 2 } }));
        Assert.Empty(planned.Items);
        Assert.Equal(["tasks[0].targets: class 'Architectural Distortion' has no annotated lesion in dataset 'd' (it has: Focal Asymmetry, Mass)"], planned.Problems);
        var noHealthy = await LesionPlanner.PlanAsync(Request(1, new AugmentationTask { Mode = TaskMode.Insertion, Count = 1 }), Images.Take(2).ToList(), Site, CancellationToken.None);
        Assert.Equal(["tasks[0]: insertion needs images without findings, and dataset 'd' has none"], noHealthy.Problems);
        var empty = await LesionPlanner.PlanAsync(Request(1, new AugmentationTask { Mode = TaskMode.Reinsertion, Count = 1 }), [Images[2]], Site, CancellationToken.None);
        Assert.Equal(["dataset 'd' has no annotated lesion to use as a reference"], empty.Problems);
    }
}
