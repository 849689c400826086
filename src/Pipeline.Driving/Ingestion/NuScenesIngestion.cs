using System.Security.Cryptography;
using Pipeline.Core.Contracts;
using Pipeline.Driving.Camera;
using Pipeline.Driving.Geometry;
using Pipeline.Driving.NuScenes;
using Pipeline.Imaging.Codecs;
using Pipeline.Imaging.Ingestion;

namespace Pipeline.Driving.Ingestion;

/// <summary>Options of <see cref="NuScenesIngestion"/>.</summary>
public sealed class NuScenesIngestionOptions
{
    /// <summary>Recount each annotation's lidar points from the key frame's .pcd.bin and compare with num_lidar_pts.</summary>
    public bool CheckLidarPointCounts { get; set; } = true;

    /// <summary>Files read concurrently.</summary>
    public int MaxDegreeOfParallelism { get; set; } = 2;
}

/// <summary>
/// Ingestion of a nuScenes-format dataset (docs/driving.md, "Ingestion"): recognised by a version folder holding
/// scene.json and sample.json. Every file is hashed and indexed; every table is parsed; every token reference must
/// resolve (scene -> log and samples, sample -> scene and prev/next, sample_data -> sample, ego_pose, calibrated_sensor
/// and its file, sample_annotation -> sample, instance, visibility, attributes, instance -> category and annotations,
/// calibrated_sensor -> sensor, map -> logs and its file); files must exist and decode (JPEG at the recorded size,
/// .pcd.bin as whole float32 5-tuples); boxes need positive sizes and unit quaternions, poses 3-vectors and unit
/// quaternions, camera calibrations a valid 3x3 K, lidar calibrations none. Every problem names the file or
/// table, the token and what is wrong; nothing stops the rest being indexed.
/// </summary>
public static class NuScenesIngestion
{
    public const string Format = "nuScenes";

    /// <summary>Runs ingestion when <paramref name="source"/> is a nuScenes-format dataset; null otherwise.</summary>
    public static async Task<DatasetIngestionResult?> TryRunAsync(IDatasetSource source, NuScenesIngestionOptions? options = null, CancellationToken cancellationToken = default)
    {
        var files = await source.ListDatasetFilesAsync(cancellationToken).ConfigureAwait(false);
        var version = NuScenesDataset.FindVersion(files.Select(f => f.Path));
        if (version is null) return null;
        return await RunAsync(source, version, files, options ?? new NuScenesIngestionOptions(), cancellationToken).ConfigureAwait(false);
    }

    private static async Task<DatasetIngestionResult> RunAsync(IDatasetSource source, string version, List<DatasetSourceFile> files, NuScenesIngestionOptions options, CancellationToken cancellationToken)
    {
        var paths = files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        var db = await NuScenesDataset.LoadAsync(source, version, cancellationToken).ConfigureAwait(false);
        var errors = new List<DatasetFileError>();
        foreach (var (file, problem) in db.LoadErrors) errors.Add(new DatasetFileError(file, problem));
        new TableChecks(db, version, paths, errors).Run();

        // hash every file; decode the files sample_data references
        var dataByFile = db.SampleData.Where(d => d.Filename is not null).GroupBy(d => d.Filename!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var indexFiles = new DatasetFile[files.Count];
        var decoded = new bool[files.Count];
        var points = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var fileErrors = new List<DatasetFileError>[files.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, files.Count), new ParallelOptions
        {
            MaxDegreeOfParallelism = Math.Max(1, options.MaxDegreeOfParallelism), CancellationToken = cancellationToken,
        }, async (i, ct) =>
        {
            var f = files[i];
            var local = fileErrors[i] = [];
            if (await source.TryReadAllBytesAsync(f.Path, local, ct).ConfigureAwait(false) is not { } bytes)
            {
                indexFiles[i] = new DatasetFile(f.Path, f.Size, "", ContentTypeOf(f.Path));
                return;
            }
            indexFiles[i] = new DatasetFile(f.Path, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)), ContentTypeOf(f.Path));
            if (!dataByFile.TryGetValue(f.Path, out var data)) return;
            try
            {
                if (f.Path.EndsWith(".pcd.bin", StringComparison.Ordinal))
                {
                    var p = LidarPointCloud.Decode(bytes, f.Path);
                    lock (points) points[f.Path] = p;
                }
                else if (JpegCodec.IsJpeg(bytes) || PngCodec.IsPng(bytes))
                {
                    using var img = JpegCodec.IsJpeg(bytes) ? JpegCodec.Decode(bytes, f.Path) : PngCodec.Decode(bytes, f.Path);
                    if (img.Width != data.Width || img.Height != data.Height)
                        throw new InvalidDataException($"image is {img.Width}x{img.Height} but sample_data {data.Token} records {data.Width}x{data.Height}");
                }
                else if (data.Fileformat is "jpg" or "png") throw new InvalidDataException($"not a JPEG or PNG image (sample_data {data.Token}, fileformat {data.Fileformat})");
                decoded[i] = true;
            }
            catch (Exception ex) when (ex is InvalidDataException or ImageFormatException or ArgumentException)
            {
                local.Add(new DatasetFileError(f.Path, "cannot be decoded: " + ex.Message));
            }
        }).ConfigureAwait(false);
        foreach (var list in fileErrors) if (list != null) errors.AddRange(list);

        if (options.CheckLidarPointCounts) CheckLidarCounts(db, version, points, errors);

        var referenced = dataByFile.Keys.ToHashSet(StringComparer.Ordinal);
        var unreferenced = files.Where(f => (f.Path.StartsWith("samples/", StringComparison.Ordinal) || f.Path.StartsWith("sweeps/", StringComparison.Ordinal)) && !referenced.Contains(f.Path))
            .Select(f => f.Path).ToList();
        var categoryNames = db.Categories.GroupBy(c => c.Token).ToDictionary(g => g.Key, g => g.First().Name ?? g.Key);
        var instanceCategory = db.Instances.GroupBy(i => i.Token).ToDictionary(g => g.Key, g => g.First().CategoryToken);
        var classCounts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var a in db.SampleAnnotations)
        {
            var name = a.InstanceToken is not null && instanceCategory.TryGetValue(a.InstanceToken, out var c) && c is not null && categoryNames.TryGetValue(c, out var n) ? n : "(unknown)";
            classCounts[name] = classCounts.GetValueOrDefault(name) + 1;
        }
        errors.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path) is var c && c != 0 ? c : string.CompareOrdinal(a.Message, b.Message));
        var report = new DatasetValidationReport
        {
            Dataset = source.Name,
            AnnotationFormat = Format,
            AnnotationFile = version,
            Files = files.Count,
            ReferencedImages = dataByFile.Count,
            ValidImages = decoded.Count(d => d),
            ImagesWithFindings = db.SampleAnnotations.Select(a => a.SampleToken).Distinct().Count(),
            Findings = db.SampleAnnotations.Count,
            Errors = errors,
            ClassCounts = classCounts,
            SplitCounts = new SortedDictionary<string, int>(StringComparer.Ordinal) { ["scenes"] = db.Scenes.Count, ["samples"] = db.Samples.Count },
            Unreferenced = unreferenced,
        };
        var index = new DatasetIndex
        {
            Dataset = source.Name,
            FileCount = indexFiles.Length,
            TotalBytes = indexFiles.Sum(f => f.Size),
            Files = indexFiles,
            Problems = errors.Select(e => e.Path.Length == 0 ? e.Message : $"{e.Path}: {e.Message}").ToList(),
        };
        return new DatasetIngestionResult(index, report);
    }

    /// <summary>num_lidar_pts against a count of the key frame's points inside the box (<see cref="Box3.CountInside(ReadOnlySpan{float}, int, RigidTransform)"/>).</summary>
    private static void CheckLidarCounts(NuScenesDataset db, string version, Dictionary<string, float[]> points, List<DatasetFileError> errors)
    {
        var table = $"{version}/{NuScenesTables.SampleAnnotation}.json";
        foreach (var sample in db.Samples)
        {
            var lidar = db.DataOf(sample.Token, "LIDAR_TOP");
            if (lidar?.Filename is null || !points.TryGetValue(lidar.Filename, out var cloud)) continue;
            RigidTransform sensorToGlobal;
            try { var (cs, ego) = db.PosesOf(lidar); sensorToGlobal = RigidTransform.SensorToGlobal(cs, ego); }
            catch (InvalidDataException) { continue; } // reported by the table checks
            foreach (var a in db.AnnotationsOf(sample.Token))
            {
                Box3 box;
                try { box = NuScenesDataset.BoxOf(a); }
                catch (Exception ex) when (ex is InvalidDataException or ArgumentException) { continue; }
                int n = box.CountInside(cloud, LidarPointCloud.Stride, sensorToGlobal);
                if (n != a.NumLidarPts)
                    errors.Add(new DatasetFileError(table, $"token {a.Token}: num_lidar_pts is {a.NumLidarPts} but {n} points of {lidar.Filename} lie in the box"));
            }
        }
    }

    private static string? ContentTypeOf(string path) =>
        path.EndsWith(".pcd.bin", StringComparison.Ordinal) ? "application/octet-stream" : Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".jpg" or ".jpeg" => "image/jpeg",
            ".png" => "image/png",
            ".json" => "application/json",
            _ => null,
        };
}
