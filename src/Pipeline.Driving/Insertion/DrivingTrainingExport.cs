using System.Text.Json;
using Pipeline.Core.Contracts;
using Pipeline.Driving.NuScenes;
using Pipeline.Imaging.Synthetic;
using RangeViewGrid = Pipeline.Driving.RangeView.RangeView;

namespace Pipeline.Driving.Insertion;

/// <summary>Options of <see cref="DrivingTrainingExport"/>.</summary>
public sealed record DrivingTrainingExportOptions
{
    public int Resolution { get; init; } = 32;
    public int ReferenceSize { get; init; } = 32;
    /// <summary>Tracked-reference draws (Δt ~ Beta(4, 1)) per object and frame.</summary>
    public int Variants { get; init; } = 2;
    /// <summary>Empty-box examples per key frame (boxes teleported from other scenes).</summary>
    public int EmptyPerSample { get; init; } = 1;
    public ulong Seed { get; init; }
}

/// <summary>What the export wrote.</summary>
public sealed record DrivingTrainingExportSummary(int Examples, int ObjectExamples, int EmptyExamples, int Samples, int RefusedEmptyBoxes);

/// <summary>
/// Training examples for the MObI-style denoiser, prepared by the same code as a run's items (<see cref="InsertionInputs"/>,
/// <see cref="ReferenceCrop"/>, <see cref="ReferenceSelection"/>, <see cref="EmptyBoxPool"/>): for every object of the two
/// classes passing MObI's filters, <see cref="DrivingTrainingExportOptions.Variants"/> examples with a tracked reference
/// (Δt ~ Beta(4, 1)); for every key frame, empty-box examples (all-zero reference and box; the target is the scene
/// itself). Written as one <see cref="TensorBundle"/> (<c>examples.tensors</c>: x0 [N,5,D,D], mask [N,2,D,D],
/// box [N,2,8,3], reference [N,3,S,S], empty [N], class [N], deltaT [N], scene [N]) and <c>manifest.json</c>
/// (shapes and one row per example). The training job (training/driving_train.py) reads only these; the random
/// reference augmentations and the CFG drop are applied there, per step.
/// </summary>
public static class DrivingTrainingExport
{
    public static async Task<DrivingTrainingExportSummary> WriteAsync(string datasetFolder, string outFolder, DrivingTrainingExportOptions options,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        var db = await NuScenesDataset.LoadAsync(datasetFolder, cancellationToken).ConfigureAwait(false);
        var sources = EmptyBoxPool.Sources(db).Where(s => DrivingClasses.Of(s.Category) is not null).ToList();
        int d = options.Resolution, s2 = options.ReferenceSize;
        var x0 = new List<float>(); var mask = new List<float>(); var box = new List<float>(); var reference = new List<float>();
        var empty = new List<float>(); var cls = new List<float>(); var deltaT = new List<float>(); var sceneIx = new List<float>();
        var rows = new List<Dictionary<string, object?>>();
        int objects = 0, empties = 0, refused = 0, samplesDone = 0;
        var ordered = db.OrderedSamples();
        var scenes = db.Scenes.Select(s => s.Token).ToList();
        for (int sc = 0; sc < scenes.Count; sc++)
        {
            var sceneSamples = ordered.Where(s => s.SceneToken == scenes[sc]).ToList();
            var frames = new List<DrivingSample>();
            foreach (var s in sceneSamples) frames.Add(await DrivingSample.LoadAsync(datasetFolder, db, s, cancellationToken: cancellationToken).ConfigureAwait(false));
            // the track of each instance: frames where it passes the filters
            var tracks = new Dictionary<string, List<TrackFrame>>(StringComparer.Ordinal);
            for (int k = 0; k < frames.Count; k++)
                foreach (var o in frames[k].Objects.Where(o => o.Decision.Keep && DrivingClasses.Of(o.Category) is not null))
                {
                    var inst = o.Annotation.InstanceToken ?? "";
                    if (!tracks.TryGetValue(inst, out var list)) tracks[inst] = list = [];
                    list.Add(new TrackFrame(k, frames[k].Sample.Token, o.Annotation.Token));
                }
            var otherScenes = sources.Where(x => x.SceneToken != scenes[sc]).ToList();
            for (int k = 0; k < frames.Count; k++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var frame = frames[k];
                var view = RangeViewGrid.FromPoints(frame.LidarPoints, LidarPointCloud.Stride);
                for (int oi = 0; oi < frame.Objects.Count; oi++)
                {
                    var o = frame.Objects[oi];
                    var mobi = DrivingClasses.Of(o.Category);
                    if (!o.Decision.Keep || mobi is null) continue;
                    InsertionInputs inputs;
                    try { inputs = InsertionInputs.Create(frame, o.GlobalBox, d, view); }
                    catch (InvalidDataException) { continue; }
                    for (int v = 0; v < options.Variants; v++)
                    {
                        var pick = ReferenceSelection.Pick(tracks[o.Annotation.InstanceToken ?? ""], k, PhantomRandom.For(options.Seed, 1, sc, k, oi, v));
                        if (pick is not { } p) break;
                        var refFrame = frames[p.Frame.Index];
                        var refObject = refFrame.Objects.First(x => x.Annotation.Token == p.Frame.AnnotationToken);
                        x0.AddRange(inputs.Target()); mask.AddRange(inputs.Mask()); box.AddRange(inputs.Box);
                        reference.AddRange(ReferenceCrop.Extract(refFrame.CameraRgb, refFrame.Camera.Width, refFrame.Camera.Height, refObject.Projection, s2));
                        empty.Add(0); cls.Add(DrivingClasses.Index(mobi)); deltaT.Add((float)p.DeltaT); sceneIx.Add(sc);
                        rows.Add(new() { ["sample"] = frame.Sample.Token, ["annotation"] = o.Annotation.Token, ["class"] = mobi, ["reference"] = p.Frame.AnnotationToken, ["deltaT"] = p.DeltaT });
                        objects++;
                    }
                }
                var rng = PhantomRandom.For(options.Seed, 2, sc, k);
                int found = 0;
                for (int tries = 0; tries < 60 && found < options.EmptyPerSample && otherScenes.Count > 0; tries++)
                {
                    var cand = EmptyBoxPool.Place(frame, rng.Pick(otherScenes));
                    if (cand.Refused is not null) { refused++; continue; }
                    InsertionInputs inputs;
                    try { inputs = InsertionInputs.Create(frame, cand.GlobalBox, d, view); }
                    catch (InvalidDataException) { refused++; continue; }
                    x0.AddRange(inputs.Target()); mask.AddRange(inputs.Mask()); box.AddRange(new float[InsertionInputs.BoxValues]);
                    reference.AddRange(ReferenceCrop.Empty(s2));
                    empty.Add(1); cls.Add(-1); deltaT.Add(0); sceneIx.Add(sc);
                    rows.Add(new() { ["sample"] = frame.Sample.Token, ["emptyBoxFrom"] = cand.SourceAnnotation, ["class"] = null });
                    empties++; found++;
                }
                progress?.Report(++samplesDone);
            }
        }
        Directory.CreateDirectory(outFolder);
        var bundle = new TensorBundle().Add("x0", [.. x0]).Add("mask", [.. mask]).Add("box", [.. box]).Add("reference", [.. reference])
            .Add("empty", [.. empty]).Add("class", [.. cls]).Add("deltaT", [.. deltaT]).Add("scene", [.. sceneIx]);
        await File.WriteAllBytesAsync(Path.Combine(outFolder, "examples.tensors"), bundle.ToBytes(), cancellationToken).ConfigureAwait(false);
        var manifest = new Dictionary<string, object?>
        {
            ["formatVersion"] = 1, ["dataset"] = Path.GetFullPath(datasetFolder), ["version"] = db.Version,
            ["resolution"] = d, ["referenceSize"] = s2, ["channels"] = new[] { "camera.r", "camera.g", "camera.b", "range.depth", "range.intensity" },
            ["count"] = rows.Count, ["objects"] = objects, ["empty"] = empties, ["seed"] = options.Seed, ["variants"] = options.Variants,
            ["scenes"] = scenes.Count, ["examples"] = rows,
        };
        await File.WriteAllTextAsync(Path.Combine(outFolder, "manifest.json"), JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }), cancellationToken).ConfigureAwait(false);
        return new DrivingTrainingExportSummary(rows.Count, objects, empties, samplesDone, refused);
    }
}
