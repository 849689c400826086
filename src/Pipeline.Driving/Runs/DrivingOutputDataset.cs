using System.Security.Cryptography;
using System.Text;
using Pipeline.Core.Contracts;
using Pipeline.Driving.Geometry;
using Pipeline.Driving.NuScenes;

namespace Pipeline.Driving.Runs;

/// <summary>One composed item as the output dataset sees it: the plan's item, its edit, lineage, and the written sweep.</summary>
public sealed record DrivingOutputItem(WorkItem Item, DrivingEdit Edit, Lineage Lineage, float[] Sweep);

/// <summary>
/// The nuScenes tables of a run's output dataset (docs/driving.md, "Outputs"), rooted at runs/{id}/out/: per composed
/// item one scene with one key frame, whose CAM_FRONT and LIDAR_TOP sample_data point at the item's files
/// (images/{item}.png, images/{item}.pcd.bin); the frame's annotations copied (new tokens; each object its own
/// instance, the chains of one frame) with the edited object's row replaced by (or, for insertion, added as) the
/// destination box; num_lidar_pts of every annotation counted again on the composited sweep. Poses, calibrations,
/// sensors, categories, attributes, visibility, the scenes' logs and their maps are copied. The extra table
/// <c>pipeline_lineage</c> (tolerated by the nuScenes layout: the devkit loads the tables it knows) holds each item's
/// lineage. Tokens derive from the run id and the item, so a rerun writes the same bytes.
/// </summary>
public static class DrivingOutputDataset
{
    public const string LineageTable = "pipeline_lineage";

    public static SortedDictionary<string, IReadOnlyList<object>> Build(NuScenesDataset db, IReadOnlyList<DrivingOutputItem> items, string version)
    {
        var categories = db.Categories.ToDictionary(c => c.Name ?? "", c => c.Token, StringComparer.Ordinal);
        var annotations = db.SampleAnnotations.ToDictionary(a => a.Token, StringComparer.Ordinal);
        var instanceCategory = db.Instances.ToDictionary(i => i.Token, i => i.CategoryToken, StringComparer.Ordinal);
        var scenes = new List<object>(); var samples = new List<object>(); var sampleData = new List<object>(); var anns = new List<object>();
        var instances = new List<object>(); var lineage = new List<object>();
        var egoTokens = new HashSet<string>(StringComparer.Ordinal); var logTokens = new HashSet<string>(StringComparer.Ordinal);
        foreach (var o in items)
        {
            ulong seed = BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(o.Lineage.RunId)), 0);
            string Token(string kind, params object[] key) => NuScenesTokens.For(seed, kind, [o.Item.ItemId, .. key]);
            var source = db.Samples.First(s => s.Token == o.Edit.Sample);
            var scene = db.Scenes.First(s => s.Token == source.SceneToken);
            var cam = db.DataOf(source.Token, "CAM_FRONT")!;
            var lidar = db.DataOf(source.Token, "LIDAR_TOP")!;
            string sampleToken = Token("sample"), sceneToken = Token("scene");
            scenes.Add(new NuScene(sceneToken, $"{scene.Name}-{o.Item.ItemId}", $"{o.Item.Mode.ToString().ToLowerInvariant()} of a {o.Item.ClassName} ({o.Lineage.RunId}/{o.Item.ItemId})", scene.LogToken, 1, sampleToken, sampleToken));
            if (scene.LogToken is { } log) logTokens.Add(log);
            samples.Add(new NuSample(sampleToken, source.Timestamp, sceneToken, "", ""));
            sampleData.Add(cam with { Token = Token("sample_data", "CAM_FRONT"), SampleToken = sampleToken, Filename = $"images/{o.Item.ItemId}.png", Fileformat = "png", Prev = "", Next = "" });
            sampleData.Add(lidar with { Token = Token("sample_data", "LIDAR_TOP"), SampleToken = sampleToken, Filename = $"images/{o.Item.ItemId}.pcd.bin", Fileformat = "pcd", Prev = "", Next = "" });
            foreach (var t in new[] { cam.EgoPoseToken, lidar.EgoPoseToken }) if (t is not null) egoTokens.Add(t);
            var (lidarCalib, lidarEgo) = db.PosesOf(lidar);
            var lidarToGlobal = RigidTransform.SensorToGlobal(lidarCalib, lidarEgo);
            int Count(Box3 box) => box.CountInside(o.Sweep, LidarPointCloud.Stride, lidarToGlobal);

            string? editedToken = null;
            foreach (var a in db.AnnotationsOf(source.Token))
            {
                if (a.Token == o.Edit.Annotation) continue;
                string token = Token("sample_annotation", a.Token), instance = Token("instance", a.Token);
                anns.Add(a with { Token = token, SampleToken = sampleToken, InstanceToken = instance, NumLidarPts = Count(NuScenesDataset.BoxOf(a)), Prev = "", Next = "" });
                instances.Add(new NuInstance(instance, a.InstanceToken is { } it ? instanceCategory.GetValueOrDefault(it) : null, 1, token, token));
            }
            var like = o.Edit.Reference is { } r && annotations.TryGetValue(r, out var refAnn) ? refAnn
                : o.Edit.Annotation is { } e && annotations.TryGetValue(e, out var old) ? old : null;
            if (o.Edit.Reference is not null)
            {
                editedToken = Token("sample_annotation", "edited");
                string instance = Token("instance", "edited");
                var b = o.Edit.Box;
                anns.Add(new NuSampleAnnotation(editedToken, sampleToken, instance, like?.AttributeTokens ?? [], like?.VisibilityToken ?? "",
                    b.Center.ToArray(), [b.Width, b.Length, b.Height], b.Rotation.ToArray(), Count(b), 0, "", ""));
                instances.Add(new NuInstance(instance, categories.GetValueOrDefault(o.Edit.Category), 1, editedToken, editedToken));
            }
            lineage.Add(new SortedDictionary<string, object?>(StringComparer.Ordinal)
            {
                ["token"] = Token("lineage"), ["sample_token"] = sampleToken, ["sample_annotation_token"] = editedToken, ["item"] = o.Item.ItemId,
                ["mode"] = o.Item.Mode.ToString().ToLowerInvariant(), ["class"] = o.Item.ClassName, ["source_sample_token"] = o.Edit.Sample,
                ["source_annotation_token"] = o.Edit.Annotation, ["reference_annotation_token"] = o.Edit.Reference, ["reference_sample_token"] = o.Edit.ReferenceSample,
                ["box"] = new { translation = o.Edit.Box.Center.ToArray(), size = new[] { o.Edit.Box.Width, o.Edit.Box.Length, o.Edit.Box.Height }, rotation = o.Edit.Box.Rotation.ToArray() },
                ["model"] = o.Lineage.Model.Id, ["model_sha256"] = o.Lineage.Model.Sha256, ["seed"] = o.Lineage.Seed,
                ["sampler"] = o.Lineage.Sampler, ["run"] = o.Lineage.RunId, ["output"] = o.Lineage.Output,
            });
        }
        var maps = db.Maps.Where(m => m.LogTokens?.Any(logTokens.Contains) == true)
            .Select(m => (object)(m with { LogTokens = m.LogTokens!.Where(logTokens.Contains).ToArray() })).ToList();
        return new SortedDictionary<string, IReadOnlyList<object>>(StringComparer.Ordinal)
        {
            [NuScenesTables.Attribute] = [.. db.Attributes], [NuScenesTables.CalibratedSensor] = [.. db.CalibratedSensors], [NuScenesTables.Category] = [.. db.Categories],
            [NuScenesTables.EgoPose] = [.. db.EgoPoses.Where(e => egoTokens.Contains(e.Token))], [NuScenesTables.Instance] = instances,
            [NuScenesTables.Log] = [.. db.Logs.Where(l => logTokens.Contains(l.Token))], [NuScenesTables.Map] = maps, [NuScenesTables.Sample] = samples,
            [NuScenesTables.SampleAnnotation] = anns, [NuScenesTables.SampleData] = sampleData, [NuScenesTables.Scene] = scenes,
            [NuScenesTables.Sensor] = [.. db.Sensors], [NuScenesTables.Visibility] = [.. db.Visibility], [LineageTable] = lineage,
        };
    }
}
