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
/// <para>
/// Scale: an insertion item's target is drawn from its own stream, so the items are chosen first and the insertion
/// sites loaded afterwards, a few target images at a time (<c>siteLoads</c>), each distinct target once; a site is
/// dropped as soon as its items have their boxes (memory holds the sites in flight, not the dataset). Replacement's
/// similar-size search runs over the lesions' sizes, read once.
/// </para>
/// </summary>
public static class LesionPlanner
{
    /// <summary>Insertion sites loaded (read and decoded) at a time by default.</summary>
    public const int DefaultSiteLoads = 8;

    public static async Task<PlannedItems> PlanAsync(AugmentationRequest request, IReadOnlyList<AnnotatedImage> images, InsertionSiteLoader loadSite,
        CancellationToken cancellationToken, int siteLoads = DefaultSiteLoads, InsertionOptions? insertion = null)
    {
        if (siteLoads < 1) throw new ArgumentOutOfRangeException(nameof(siteLoads), $"at least one site load at a time, got {siteLoads}");
        var problems = new List<string>();
        var shortfalls = new List<string>();
        var items = new List<WorkItem?>();
        var insertions = new List<PendingInsertion>();
        var lesions = images.SelectMany(im => im.Findings.Select(f => (Image: im, Finding: f))).ToList();
        LesionSizes? sizes = null;
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
            var rng = SplitMix64.ForItem((ulong)request.Seed, 0xFFFF_FFFF_0000_0000UL + (ulong)t);
            // (class, count) list: per-class targets in name order, or Count lesions drawn from all classes.
            var wanted = task.Targets is { } tg
                ? tg.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (Class: (string?)p.Key, Count: p.Value)).ToList()
                : [(Class: (string?)null, Count: task.Count ?? 0)];
            int k = 0;
            foreach (var (cls, count) in wanted)
            {
                var pool = lesions.Where(l => cls is null || l.Finding.ClassName == cls).ToList();
                Shuffle(pool, ref rng);
                int made = 0, cursor = 0, attempts = 0;
                while (made < count && attempts < count * 4 + pool.Count)
                {
                    attempts++;
                    var reference = pool[cursor++ % pool.Count];
                    string itemId = $"t{t}-{k:D6}";
                    var itemRng = SplitMix64.ForItem((ulong)request.Seed, ((ulong)t << 32) + (ulong)k);
                    long seed = (long)(itemRng.NextUInt64() >> 1);
                    if (task.Mode == TaskMode.Insertion)
                    {
                        // the target now, the box once its site is loaded (from the stream as it is after this draw)
                        var target = healthy[itemRng.NextInt(healthy.Count)];
                        insertions.Add(new PendingInsertion(items.Count, itemId, t, reference, target, itemRng, seed));
                        items.Add(null);
                    }
                    else
                    {
                        var item = task.Mode == TaskMode.Reinsertion
                            ? Item(itemId, t, task.Mode, reference.Image, reference, reference.Image, reference.Finding.Box, seed)
                            : Replacement(itemId, t, reference, lesions, sizes ??= new LesionSizes(lesions), ref itemRng, seed);
                        if (item is null) continue;
                        items.Add(item);
                    }
                    made++; k++;
                }
                if (made < count)
                    shortfalls.Add($"tasks[{t}] ({task.Mode}{(cls is null ? "" : ", " + cls)}): planned {made} of {count} items" +
                                   (task.Mode == TaskMode.Replacement ? " (no lesion of similar size, within 15%, in another image)" : ""));
            }
        }
        var slots = items.ToArray();
        await PlaceInsertionsAsync(insertions, slots, loadSite, siteLoads, insertion ?? InsertionOptions.Default, cancellationToken).ConfigureAwait(false);
        return new PlannedItems(slots.Select(i => i!).ToList(), shortfalls, []);
    }

    /// <summary>An insertion item chosen but not yet placed: its target's site is still to be loaded.</summary>
    private sealed record PendingInsertion(int Slot, string ItemId, int TaskIndex, (AnnotatedImage Image, Finding Finding) Reference,
        AnnotatedImage Target, SplitMix64 Rng, long Seed);

    /// <summary>Loads each distinct target's site once, <paramref name="siteLoads"/> at a time, and draws the boxes of its items.</summary>
    private static async Task PlaceInsertionsAsync(List<PendingInsertion> insertions, WorkItem?[] items, InsertionSiteLoader loadSite, int siteLoads, InsertionOptions insertion,
        CancellationToken cancellationToken)
    {
        var byTarget = insertions.GroupBy(p => p.Target.Path, StringComparer.Ordinal).ToList();
        await Parallel.ForEachAsync(byTarget, new ParallelOptions { MaxDegreeOfParallelism = siteLoads, CancellationToken = cancellationToken }, async (group, ct) =>
        {
            var site = await loadSite(group.First().Target, ct).ConfigureAwait(false);
            foreach (var p in group)
            {
                var rng = p.Rng;
                var b = InsertionSampler.Sample(site.Foreground, site.Width, site.Height, p.Reference.Finding.Box.Width, p.Reference.Finding.Box.Height, ref rng, insertion).Box;
                // each pending item owns its slot: no two writers share one
                items[p.Slot] = Item(p.ItemId, p.TaskIndex, TaskMode.Insertion, p.Target, p.Reference, p.Reference.Image,
                    new BoundingBox(b.Left, b.Top, b.Left + b.Width, b.Top + b.Height), p.Seed);
            }
        }).ConfigureAwait(false);
    }

    /// <summary>Every lesion's box size and image, read once for replacement's similar-size search.</summary>
    private sealed class LesionSizes
    {
        public LesionSizes(IReadOnlyList<(AnnotatedImage Image, Finding Finding)> lesions)
        {
            Widths = new double[lesions.Count]; Heights = new double[lesions.Count]; Images = new string[lesions.Count];
            for (int i = 0; i < lesions.Count; i++)
            {
                var box = ToBoxF(lesions[i].Finding.Box);
                box.Validate($"lesion {i} of image {lesions[i].Image.ImageId}");
                (Widths[i], Heights[i], Images[i]) = (box.Width, box.Height, lesions[i].Image.ImageId);
            }
        }

        public double[] Widths { get; }
        public double[] Heights { get; }
        public string[] Images { get; }
        /// <summary>Scratch list of matching lesion indices, reused by each replacement (items are chosen one after another).</summary>
        public List<int> Matches { get; } = [];
    }

    private static WorkItem Item(string id, int t, TaskMode mode, AnnotatedImage target, (AnnotatedImage Image, Finding Finding) reference,
        AnnotatedImage referenceImage, BoundingBox targetBox, long seed) => new()
    {
        ItemId = id, TaskIndex = t, Mode = mode, TargetImage = target.Path, ReferenceImage = referenceImage.Path,
        ReferenceBox = reference.Finding.Box, TargetBox = targetBox, ClassName = reference.Finding.ClassName, Seed = seed,
    };

    /// <summary>
    /// A lesion of another image whose size is within ReplacementSampler's tolerance of the reference (relative to the
    /// candidate target's size), drawn uniformly. The stream advances once per match before the draw, as it did when
    /// each candidate went through <see cref="ReplacementSampler.Sample"/> on its own, so plans stay what they were.
    /// </summary>
    private static WorkItem? Replacement(string id, int t, (AnnotatedImage Image, Finding Finding) reference,
        IReadOnlyList<(AnnotatedImage Image, Finding Finding)> lesions, LesionSizes sizes, ref SplitMix64 rng, long seed)
    {
        var refBox = ToBoxF(reference.Finding.Box);
        double tol = ReplacementOptions.Default.Tolerance;
        string refImage = reference.Image.ImageId;
        var matches = sizes.Matches;
        matches.Clear();
        for (int i = 0; i < sizes.Widths.Length; i++)
        {
            if (sizes.Images[i] == refImage) continue;
            if (ReplacementSampler.IsSimilar(refBox.Width, refBox.Height, sizes.Widths[i], sizes.Heights[i], tol))
            {
                matches.Add(i);
                rng.NextUInt64();
            }
        }
        if (matches.Count == 0) return null;
        var target = lesions[matches[rng.NextInt(matches.Count)]];
        var others = target.Image.Findings.Where(f => !ReferenceEquals(f, target.Finding)).Select(f => f.Box).ToList();
        return Item(id, t, TaskMode.Replacement, target.Image, reference, reference.Image, target.Finding.Box, seed) with
        {
            OtherFindings = others.Count > 0 ? others : null,
        };
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
