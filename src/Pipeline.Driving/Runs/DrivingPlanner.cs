using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Driving.Camera;
using Pipeline.Driving.Geometry;
using Pipeline.Driving.Insertion;
using Pipeline.Driving.NuScenes;
using Pipeline.Imaging.Preprocessing;
using Pipeline.Imaging.Synthetic;

namespace Pipeline.Driving.Runs;

/// <summary>
/// Plans a driving run (docs/driving.md, "Runs") over a nuScenes-format dataset, deterministic in the request's seed:
/// <list type="bullet">
/// <item>reinsertion: an object of the two classes passing MObI's filters, re-generated at its own box with a tracked
/// reference (Δt ~ Beta(4, 1); the same annotation when its track has no other frame);</item>
/// <item>replacement: such an object, replaced by a reference of the same class from another track;</item>
/// <item>insertion: an empty box of the pool (an object's box from another scene teleported in, checked by
/// <see cref="EmptyBoxPool"/>), with that object as the reference;</item>
/// <item>explicit edits (<c>tasks[].edits</c>): the request's own box, object and reference. They are planned as given;
/// what is wrong with them (a box behind the camera or outside the lidar range, a reference of another class, a sample
/// without a lidar sweep) fails the item with the reason when it is prepared.</item>
/// </list>
/// Per-class targets use MObI's class names, "car" and "pedestrian".
/// </summary>
public sealed class DrivingPlanner(DrivingDatasets datasets) : IItemPlanner
{
    public bool Recognizes(DatasetFiles dataset) => NuScenesDataset.FindVersion(dataset.Paths) is not null;

    private sealed record Candidate(int SceneIndex, int FrameIndex, DrivingSample Frame, SampleObject Object, string Class);

    public async Task<PlannedItems> PlanAsync(AugmentationRequest request, DatasetFiles dataset, IBlobReader blobs, CancellationToken cancellationToken)
    {
        var version = NuScenesDataset.FindVersion(dataset.Paths);
        if (version is null) return PlannedItems.Rejected([$"dataset '{dataset.Name}' is not a nuScenes-format dataset (no <version>/scene.json and sample.json)"]);
        var db = await datasets.TablesAsync(blobs, dataset.BlobPrefix, version, cancellationToken).ConfigureAwait(false);
        var warnings = new List<string>();
        var items = new List<WorkItem>();
        var shortfalls = new List<string>();

        // every key frame that can be loaded, with its objects passing the filters
        bool needFrames = request.Tasks.Any(t => t.Edits is null);
        var candidates = new List<Candidate>();
        var frames = new List<(int Scene, int Index, DrivingSample Frame)>();
        var tracks = new Dictionary<string, List<TrackFrame>>(StringComparer.Ordinal);
        if (needFrames)
        {
            var ordered = db.OrderedSamples();
            for (int sc = 0; sc < db.Scenes.Count; sc++)
            {
                var inScene = ordered.Where(s => s.SceneToken == db.Scenes[sc].Token).ToList();
                for (int k = 0; k < inScene.Count; k++)
                {
                    DrivingSample frame;
                    try { frame = await DrivingDatasets.FrameAsync(blobs, dataset.BlobPrefix, db, inScene[k].Token, cancellationToken).ConfigureAwait(false); }
                    catch (Exception e) when (e is InvalidDataException or FileNotFoundException)
                    {
                        warnings.Add($"sample {inScene[k].Token} is not used: {e.Message}");
                        continue;
                    }
                    frames.Add((sc, k, frame));
                    foreach (var o in frame.Objects)
                    {
                        var cls = DrivingClasses.Of(o.Category);
                        if (cls is null || !o.Decision.Keep) continue;
                        candidates.Add(new Candidate(sc, k, frame, o, cls));
                        var inst = o.Annotation.InstanceToken ?? "";
                        if (!tracks.TryGetValue(inst, out var list)) tracks[inst] = list = [];
                        list.Add(new TrackFrame(k, frame.Sample.Token, o.Annotation.Token));
                    }
                }
            }
        }

        for (int t = 0; t < request.Tasks.Count; t++)
        {
            var task = request.Tasks[t];
            var taskRng = new SplitMix64State(SplitMix64.ForItem((ulong)request.Seed, 0xFFFF_FFFF_0000_0000UL + (ulong)t));
            int k = 0;
            if (task.Edits is { } edits)
            {
                foreach (var edit in edits)
                {
                    var (item, problem) = FromEdit(request, db, dataset, version, t, k++, task.Mode, edit, candidates);
                    if (item is not null) items.Add(item); else shortfalls.Add($"tasks[{t}].edits[{k - 1}]: {problem}");
                }
                continue;
            }
            var wanted = task.Targets is { } targets ? targets.Select(p => ((string?)p.Key, p.Value)).ToList() : [(null, task.Count ?? 0)];
            foreach (var (cls, count) in wanted)
            {
                if (cls is not null && cls is not (DrivingClasses.Car or DrivingClasses.Pedestrian))
                {
                    shortfalls.Add($"tasks[{t}]: class '{cls}' is not one of MObI's classes (car, pedestrian)");
                    continue;
                }
                var pool = candidates.Where(c => cls is null || c.Class == cls).ToList();
                Shuffle(pool, taskRng);
                int made = 0;
                if (task.Mode == TaskMode.Insertion)
                {
                    var targetFrames = frames.ToList();
                    Shuffle(targetFrames, taskRng);
                    foreach (var f in targetFrames)
                    {
                        if (made >= count) break;
                        foreach (var source in pool.Where(c => c.SceneIndex != f.Scene))
                        {
                            var placed = EmptyBoxPool.Place(f.Frame, new EmptyBoxSource(source.Object.GlobalBox, source.Frame.CameraEgoPose, source.Object.Annotation.Token, source.Object.Category, ""));
                            if (placed.Refused is not null) continue;
                            var edit = new DrivingEdit(version, f.Frame.Sample.Token, placed.GlobalBox, null, source.Object.Annotation.Token, source.Frame.Sample.Token, source.Object.Category);
                            items.Add(Item(request, db, dataset, t, k++, task.Mode, edit, source.Class, source.Object.Projection.Bounds));
                            made++;
                            break;
                        }
                    }
                }
                else
                {
                    foreach (var c in pool)
                    {
                        if (made >= count) break;
                        string? reference;
                        string? referenceSample;
                        Box2 refBounds;
                        if (task.Mode == TaskMode.Reinsertion)
                        {
                            var pick = ReferenceSelection.Pick(tracks[c.Object.Annotation.InstanceToken ?? ""], c.FrameIndex, PhantomRandom.For((ulong)request.Seed, t, k));
                            reference = pick?.Frame.AnnotationToken ?? c.Object.Annotation.Token;
                            referenceSample = pick?.Frame.SampleToken ?? c.Frame.Sample.Token;
                            refBounds = candidates.FirstOrDefault(x => x.Object.Annotation.Token == reference)?.Object.Projection.Bounds ?? c.Object.Projection.Bounds;
                        }
                        else
                        {
                            var others = candidates.Where(x => x.Class == c.Class && x.Object.Annotation.InstanceToken != c.Object.Annotation.InstanceToken).ToList();
                            if (others.Count == 0) continue;
                            var r = others[(int)(taskRng.Next() % (ulong)others.Count)];
                            reference = r.Object.Annotation.Token;
                            referenceSample = r.Frame.Sample.Token;
                            refBounds = r.Object.Projection.Bounds;
                        }
                        var edit = new DrivingEdit(version, c.Frame.Sample.Token, c.Object.GlobalBox, c.Object.Annotation.Token, reference, referenceSample, c.Object.Category);
                        items.Add(Item(request, db, dataset, t, k++, task.Mode, edit, c.Class, refBounds));
                        made++;
                    }
                }
                if (made < count)
                    shortfalls.Add($"tasks[{t}] ({task.Mode}{(cls is null ? "" : ", " + cls)}): planned {made} of {count} items" +
                                   (task.Mode == TaskMode.Insertion ? " (no more empty boxes passing the pool's checks)" : " (no more objects passing MObI's filters)"));
            }
        }
        return new PlannedItems(items, shortfalls, []) { Warnings = warnings };
    }

    private static (WorkItem? Item, string? Problem) FromEdit(AugmentationRequest request, NuScenesDataset db, DatasetFiles dataset, string version, int t, int k,
        TaskMode mode, SceneEdit edit, IReadOnlyList<Candidate> candidates)
    {
        if (db.Samples.All(s => s.Token != edit.Sample)) return (null, $"sample {edit.Sample} is not in the dataset");
        var annotations = db.SampleAnnotations.ToDictionary(a => a.Token, StringComparer.Ordinal);
        var categoryOf = db.Instances.ToDictionary(i => i.Token, i => db.Categories.FirstOrDefault(c => c.Token == i.CategoryToken)?.Name ?? "?");
        string CategoryOf(NuSampleAnnotation a) => categoryOf.GetValueOrDefault(a.InstanceToken ?? "", "?");
        NuSampleAnnotation? reference = null;
        if (edit.Reference is { } r && !annotations.TryGetValue(r, out reference)) return (null, $"reference annotation {r} is not in the dataset");
        Box3 box;
        string category, cls;
        if (mode == TaskMode.Insertion)
        {
            if (edit.Center is not { Count: 3 } c || edit.Size is not { Count: 3 } size || edit.Rotation is not { Count: 4 } q)
                return (null, "an insertion edit needs center, size and rotation");
            box = new Box3(new Vector3d(c[0], c[1], c[2]), size[0], size[1], size[2], Quaternion.From(q.ToArray()).Normalized());
            cls = edit.Class ?? (reference is null ? null : DrivingClasses.Of(CategoryOf(reference))) ?? DrivingClasses.Car;
            category = reference is null ? (cls == DrivingClasses.Pedestrian ? "human.pedestrian.adult" : "vehicle.car") : CategoryOf(reference);
            if (reference is null)
            {
                var pool = candidates.Where(x => x.Class == cls).ToList();
                if (pool.Count > 0) reference = pool[(int)(SplitMix64.ForItem((ulong)request.Seed, ((ulong)t << 32) + (ulong)k).NextUInt64() % (ulong)pool.Count)].Object.Annotation;
            }
        }
        else
        {
            if (edit.Annotation is not { } a || !annotations.TryGetValue(a, out var target)) return (null, $"a {mode.ToString().ToLowerInvariant()} edit needs the annotation of an object of sample {edit.Sample}");
            if (target.SampleToken != edit.Sample) return (null, $"annotation {a} belongs to sample {target.SampleToken}, not {edit.Sample}");
            box = NuScenesDataset.BoxOf(target);
            category = CategoryOf(target);
            cls = DrivingClasses.Of(category) ?? category;
            reference ??= mode == TaskMode.Reinsertion ? target : null;
            if (reference is null) return (null, "a replacement edit needs a reference annotation");
        }
        var edited = new DrivingEdit(version, edit.Sample, box, edit.Annotation, reference?.Token, reference?.SampleToken, category);
        Box2 refBounds = default;
        if (reference?.SampleToken is { } rs && db.DataOf(rs, "CAM_FRONT") is { } cam)
        {
            var (calib, ego) = db.PosesOf(cam);
            refBounds = BoxProjection.Project(NuScenesDataset.BoxOf(reference), ego, calib, db.IntrinsicsOf(cam)).ClippedBounds;
        }
        return (Item(request, db, dataset, t, k, mode, edited, cls, refBounds), null);
    }

    private static WorkItem Item(AugmentationRequest request, NuScenesDataset db, DatasetFiles dataset, int t, int k, TaskMode mode, DrivingEdit edit, string cls, Box2 referenceBounds)
    {
        var cam = db.DataOf(edit.Sample, "CAM_FRONT");
        var refCam = edit.ReferenceSample is { } rs ? db.DataOf(rs, "CAM_FRONT") : null;
        var target = new BoundingBox(0, 0, 1, 1);
        if (cam is not null)
        {
            var (calib, ego) = db.PosesOf(cam);
            var p = BoxProjection.Project(edit.Box, ego, calib, db.IntrinsicsOf(cam));
            if (p.InFront && !p.ClippedBounds.IsEmpty) target = new BoundingBox(p.ClippedBounds.X0, p.ClippedBounds.Y0, p.ClippedBounds.X1, p.ClippedBounds.Y1);
        }
        long seed = (long)(SplitMix64.ForItem((ulong)request.Seed, ((ulong)t << 32) + (ulong)k).NextUInt64() >> 1);
        return new WorkItem
        {
            ItemId = $"t{t}-{k:D6}", TaskIndex = t, Mode = mode,
            TargetImage = dataset.BlobPrefix + (cam?.Filename ?? $"(sample {edit.Sample} has no CAM_FRONT key frame)"),
            ReferenceImage = refCam is null ? "" : dataset.BlobPrefix + refCam.Filename,
            ReferenceBox = referenceBounds.IsEmpty ? new BoundingBox(0, 0, 1, 1) : new BoundingBox(referenceBounds.X0, referenceBounds.Y0, referenceBounds.X1, referenceBounds.Y1),
            TargetBox = target, ClassName = cls, Seed = seed, Details = edit.ToDetails(),
        };
    }

    private sealed class SplitMix64State(SplitMix64 state)
    {
        private SplitMix64 _state = state;
        public ulong Next() => _state.NextUInt64();
    }

    private static void Shuffle<T>(List<T> list, SplitMix64State rng)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = (int)(rng.Next() % (ulong)(i + 1));
            (list[i], list[j]) = (list[j], list[i]);
        }
    }
}
