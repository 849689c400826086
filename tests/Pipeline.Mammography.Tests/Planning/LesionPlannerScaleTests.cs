using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using InsertionOptions = Pipeline.Imaging.Preprocessing.InsertionOptions;
using Pipeline.Mammography.Planning;

namespace Pipeline.Mammography.Tests.Planning;

/// <summary>
/// The planner at a size where its shape matters: insertion sites loaded concurrently, once per distinct target image,
/// none kept after its items are drawn; replacement's similar-size search over every lesion. The plan must be the one
/// the sequential planner (before these changes) made for the same request: the hash below was recorded from it, with
/// the thesis's insertion sampling (the default now also keeps boxes wholly inside the tissue).
/// </summary>
public class LesionPlannerScaleTests
{
    /// <summary>SHA-256 of the items (JSON, PipelineJson options) planned by the sequential planner for <see cref="Request"/>.</summary>
    private const string SequentialPlanSha256 = "2AD15AF639F1B69BA671D9E4E612C270C033B65C457777E0733E7A9013EFBF3E";

    private static IReadOnlyList<AnnotatedImage> Images()
    {
        var rng = new Random(2026);
        string[] classes = ["Mass", "Suspicious Calcification", "Focal Asymmetry"];
        var images = new List<AnnotatedImage>();
        for (int i = 0; i < 400; i++)
        {
            int w = 160 + rng.Next(4) * 40, h = 200 + rng.Next(3) * 40;
            var findings = new List<Finding>();
            if (i % 5 >= 2)
                for (int f = 0, n = 1 + rng.Next(2); f < n; f++)
                {
                    double bw = 8 + rng.NextDouble() * 40, bh = 8 + rng.NextDouble() * 40, x = rng.NextDouble() * (w - bw), y = rng.NextDouble() * (h - bh);
                    findings.Add(new Finding(classes[rng.Next(classes.Length)], new BoundingBox(Math.Round(x, 2), Math.Round(y, 2), Math.Round(x + bw, 2), Math.Round(y + bh, 2))));
                }
            images.Add(new AnnotatedImage($"img{i:D4}", $"datasets/d/images/img{i:D4}.dicom", w, h, findings));
        }
        return images;
    }

    /// <summary>Tissue: an ellipse per image, its centre and radii from the image id (a stand-in for a decoded mammogram).</summary>
    private static InsertionSite Tissue(AnnotatedImage image)
    {
        int k = int.Parse(image.ImageId.AsSpan(3));
        double cx = image.Width * (0.3 + 0.05 * (k % 5)), cy = image.Height / 2.0, rx = image.Width * (0.25 + 0.02 * (k % 4)), ry = image.Height * 0.4;
        var fg = new byte[image.Width * image.Height];
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
                if (Math.Pow((x + 0.5 - cx) / rx, 2) + Math.Pow((y + 0.5 - cy) / ry, 2) <= 1) fg[y * image.Width + x] = 1;
        return new InsertionSite(fg, image.Width, image.Height);
    }

    private static readonly AugmentationRequest Request = new()
    {
        Dataset = "d", Model = "models/m/1", Seed = 42,
        Tasks =
        [
            new AugmentationTask { Mode = TaskMode.Reinsertion, Count = 120 },
            new AugmentationTask { Mode = TaskMode.Replacement, Count = 150 },
            new AugmentationTask { Mode = TaskMode.Insertion, Count = 300 },
            new AugmentationTask { Mode = TaskMode.Insertion, Targets = new Dictionary<string, int> { ["Mass"] = 40, ["Focal Asymmetry"] = 25 } },
            new AugmentationTask { Mode = TaskMode.Replacement, Targets = new Dictionary<string, int> { ["Suspicious Calcification"] = 30 } },
        ],
    };

    [Fact]
    public async Task A_large_plan_equals_the_sequential_planners_and_loads_each_insertion_target_once()
    {
        var images = Images();
        var loads = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var planned = await LesionPlanner.PlanAsync(Request, images, async (target, cancellationToken) =>
        {
            loads.AddOrUpdate(target.Path, 1, (_, n) => n + 1);
            await Task.Yield();
            return Tissue(target);
        }, CancellationToken.None, insertion: InsertionOptions.Thesis);

        Assert.Empty(planned.Problems);
        Assert.Equal((665, 0), (planned.Items.Count, planned.Shortfalls.Count));
        // the sequential planners' items had no OtherFindings (added later; checked on their own below)
        var hash = Convert.ToHexString(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(
            planned.Items.Select(i => i with { OtherFindings = null }).ToList(), PipelineJson.Options)));
        Assert.True(SequentialPlanSha256 == hash, $"plan hash {hash}");
        var targets = planned.Items.Where(i => i.Mode == TaskMode.Insertion).Select(i => i.TargetImage).Distinct().ToList();
        Assert.Equal(targets.Order(StringComparer.Ordinal), loads.Keys.Order(StringComparer.Ordinal));
        Assert.All(loads, l => Assert.Equal(1, l.Value));
        var byPath = images.ToDictionary(im => im.Path, StringComparer.Ordinal);
        foreach (var item in planned.Items)
        {
            var others = byPath[item.TargetImage].Findings.Select(f => f.Box).Where(b => b != item.TargetBox).ToList();
            if (item.Mode == TaskMode.Replacement && others.Count > 0) Assert.Equal(others, item.OtherFindings);
            else Assert.Null(item.OtherFindings);
        }
        Assert.Contains(planned.Items, i => i.OtherFindings is not null);
    }
}
