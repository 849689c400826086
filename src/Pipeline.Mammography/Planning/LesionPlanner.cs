using System.Runtime.CompilerServices;
using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Imaging.Preprocessing;

namespace Pipeline.Mammography.Planning;

/// <summary>Where a lesion may go in a healthy image: its breast-tissue mask (1 = tissue), row-major, Width x Height.</summary>
public sealed record InsertionSite(byte[] Foreground, int Width, int Height);

/// <summary>Loads the insertion site of a target image (decodes the image; the planner calls it only for images it draws).</summary>
public delegate Task<InsertionSite> InsertionSiteLoader(AnnotatedImage target, CancellationToken cancellationToken);

/// <summary>
/// Chooses the run's items deterministically from the run seed (docs/reference.md, "Evaluation sampling"):
/// <list type="bullet">
/// <item>reinsertion: annotated lesions of the class, each regenerated from its own crop;</item>
/// <item>replacement: a reference lesion of the class replaces a lesion of similar size (width and height within 15%) in another image;</item>
/// <item>insertion: a reference lesion of the class goes into a healthy image at a box of its size in breast tissue.</item>
/// </list>
/// Lesions are drawn without replacement from a seeded shuffle, cycling when a task asks for more items than there are
/// lesions (each repeat has its own item seed, so its noise differs). Task t's item k has id "t{t}-{k:D6}" and seed
/// SplitMix64.ForItem(runSeed, t * 2^32 + k). An insertion box is drawn in the target's breast tissue
/// (<see cref="InsertionSampler"/>) from the item's random stream after the target image.
/// </summary>
public static class LesionPlanner
{
    public static async Task<PlannedItems> PlanAsync(AugmentationRequest request, IReadOnlyList<AnnotatedImage> images, InsertionSiteLoader loadSite,
        CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var shortfalls = new List<string>();
        var items = new List<WorkItem>();
        var lesions = images.SelectMany(im => im.Findings.Select(f => (Image: im, Finding: f))).ToList();
        var healthy = images.Where(im => im.Findings.Count == 0).ToList();
        var classes = lesions.Select(l => l.Finding.ClassName).Distinct(StringComparer.Ordinal).OrderBy(c => c, StringComparer.Ordinal).ToList();
        if (lesions.Count == 0) problems.Add($"dataset '{request.Dataset}' has no annotated lesion to use as a reference");

        for (int t = 0; t < request.Tasks.Count; t++)
        {
            var task = request.Tasks[t];
            if (task.Targets is { } targets)
                foreach (var c in targets.Keys.Where(c => !classes.Contains(c, StringComparer.Ordinal)))
                    problems.Add($"tasks[{t}].targets: class '{c}' has no annotated lesion in dataset '{request.Dataset}' (it has: {string.Join(", ", classes)})");
            if (task.Mode == TaskMode.Insertion && healthy.Count == 0)
                problems.Add($"tasks[{t}]: insertion needs images without findings, and dataset '{request.Dataset}' has none");
        }
        if (problems.Count > 0) return PlannedItems.Rejected(problems);

        for (int t = 0; t < request.Tasks.Count; t++)
        {
            var task = request.Tasks[t];
            // random streams live in boxes: the planner awaits image decodes between draws (no ref locals across awaits)
            var rng = new StrongBox<SplitMix64>(SplitMix64.ForItem((ulong)request.Seed, 0xFFFF_FFFF_0000_0000UL + (ulong)t));
            // (class, count) list: per-class targets in name order, or Count lesions drawn from all classes.
            var wanted = task.Targets is { } tg
                ? tg.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (Class: (string?)p.Key, Count: p.Value)).ToList()
                : [(Class: (string?)null, Count: task.Count ?? 0)];
            int k = 0;
            foreach (var (cls, count) in wanted)
            {
                var pool = lesions.Where(l => cls is null || l.Finding.ClassName == cls).ToList();
                Shuffle(pool, ref rng.Value);
                int made = 0, cursor = 0, attempts = 0;
                while (made < count && attempts < count * 4 + pool.Count)
                {
                    attempts++;
                    var reference = pool[cursor++ % pool.Count];
                    string itemId = $"t{t}-{k:D6}";
                    var itemRng = new StrongBox<SplitMix64>(SplitMix64.ForItem((ulong)request.Seed, ((ulong)t << 32) + (ulong)k));
                    long seed = (long)(itemRng.Value.NextUInt64() >> 1);
                    WorkItem? item = task.Mode switch
                    {
                        TaskMode.Reinsertion => Item(itemId, t, task.Mode, reference.Image, reference, reference.Image, reference.Finding.Box, seed),
                        TaskMode.Replacement => Replacement(itemId, t, reference, lesions, ref itemRng.Value, seed),
                        _ => await InsertionAsync(itemId, t, reference, healthy, loadSite, itemRng, seed, cancellationToken).ConfigureAwait(false),
                    };
                    if (item is null) continue;
                    items.Add(item);
                    made++; k++;
                }
                if (made < count)
                    shortfalls.Add($"tasks[{t}] ({task.Mode}{(cls is null ? "" : ", " + cls)}): planned {made} of {count} items" +
                                   (task.Mode == TaskMode.Replacement ? " (no lesion of similar size, within 15%, in another image)" : ""));
            }
        }
        return new PlannedItems(items, shortfalls, []);
    }

    private static WorkItem Item(string id, int t, TaskMode mode, AnnotatedImage target, (AnnotatedImage Image, Finding Finding) reference,
        AnnotatedImage referenceImage, BoundingBox targetBox, long seed) => new()
    {
        ItemId = id, TaskIndex = t, Mode = mode, TargetImage = target.Path, ReferenceImage = referenceImage.Path,
        ReferenceBox = reference.Finding.Box, TargetBox = targetBox, ClassName = reference.Finding.ClassName, Seed = seed,
    };

    private static WorkItem? Replacement(string id, int t, (AnnotatedImage Image, Finding Finding) reference,
        IReadOnlyList<(AnnotatedImage Image, Finding Finding)> lesions, ref SplitMix64 rng, long seed)
    {
        var refLesion = new LesionRef(reference.Image.ImageId, ToBoxF(reference.Finding.Box), reference.Finding.ClassName);
        var targets = new List<(AnnotatedImage Image, Finding Finding)>();
        foreach (var l in lesions)
        {
            if (l.Image.ImageId == reference.Image.ImageId) continue;
            // ReplacementSampler's similar-size rule (width and height within 15% of the target lesion's)
            if (ReplacementSampler.Sample(new LesionRef(l.Image.ImageId, ToBoxF(l.Finding.Box), l.Finding.ClassName), [refLesion], ref rng) is not null)
                targets.Add(l);
        }
        if (targets.Count == 0) return null;
        var target = targets[rng.NextInt(targets.Count)];
        return Item(id, t, TaskMode.Replacement, target.Image, reference, reference.Image, target.Finding.Box, seed);
    }

    private static async Task<WorkItem> InsertionAsync(string id, int t, (AnnotatedImage Image, Finding Finding) reference, IReadOnlyList<AnnotatedImage> healthy,
        InsertionSiteLoader loadSite, StrongBox<SplitMix64> rng, long seed, CancellationToken cancellationToken)
    {
        var target = healthy[rng.Value.NextInt(healthy.Count)];
        var site = await loadSite(target, cancellationToken).ConfigureAwait(false);
        var b = InsertionSampler.Sample(site.Foreground, site.Width, site.Height, reference.Finding.Box.Width, reference.Finding.Box.Height, ref rng.Value).Box;
        return Item(id, t, TaskMode.Insertion, target, reference, reference.Image, new BoundingBox(b.Left, b.Top, b.Left + b.Width, b.Top + b.Height), seed);
    }

    public static BoxF ToBoxF(BoundingBox b) => new(b.X0, b.Y0, b.X1, b.Y1);

    private static void Shuffle<T>(List<T> list, ref SplitMix64 rng)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }
}
