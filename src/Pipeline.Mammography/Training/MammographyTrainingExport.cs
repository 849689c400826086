using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Pipeline.Core.Contracts;
using Pipeline.Core.Training;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Ingestion;
using Pipeline.Imaging.Preprocessing;
using Pipeline.Mammography.Planning;

namespace Pipeline.Mammography.Training;

/// <summary>
/// Training examples from a local mammography dataset folder, prepared by the inference code
/// (<see cref="ItemImaging.Prepare"/>, the function <see cref="MammographyPreparer"/> runs in a run's Preprocess), written
/// as tensors with a manifest (<see cref="TrainingDataManifest"/>). Every annotated lesion gives reinsertion examples
/// (the reference is the lesion itself): <see cref="TrainingExportOptions.Variants"/> per training lesion, one per
/// validation lesion, each with its own seed and so its own crop ratio. Images are split by image, never by lesion.
/// A lesion that cannot be prepared (unreadable image, box outside it) is skipped with the reason.
/// </summary>
public static class MammographyTrainingExport
{
    public const string DomainName = MammographyDomain.DomainName;

    /// <summary>Progress: lesions done of the total.</summary>
    public readonly record struct ExportProgress(int Done, int Total);

    public static async Task<TrainingDataManifest> ExportAsync(string datasetFolder, string outFolder, TrainingExportOptions options,
        IProgress<ExportProgress>? progress, CancellationToken cancellationToken)
    {
        if (options.Problems() is { Count: > 0 } problems) throw new ArgumentException("train-data export: " + string.Join("; ", problems));
        var root = Path.GetFullPath(datasetFolder);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"dataset folder '{datasetFolder}' does not exist");
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).ToHashSet(StringComparer.Ordinal);
        if (DatasetAnnotations.Detect(files) is not { } annotation)
            throw new InvalidDataException($"dataset '{datasetFolder}' has no annotation file ({DatasetAnnotations.VinDrFile}, {DatasetAnnotations.GenericCsvFile} or {DatasetAnnotations.GenericJsonFile})");
        var annotationBytes = await File.ReadAllBytesAsync(Path.Combine(root, annotation.File), cancellationToken).ConfigureAwait(false);
        var warnings = new List<string>();
        var findings = DatasetAnnotations.Parse(annotation.Format, annotation.File, Encoding.UTF8.GetString(annotationBytes), warnings);
        var images = DatasetImages.FromFindings(findings, "", files, warnings).Where(i => i.Findings.Count > 0)
            .OrderBy(i => i.Path, StringComparer.Ordinal).ToList();
        if (images.Count == 0) throw new InvalidDataException($"dataset '{datasetFolder}': {annotation.File} has no lesion box on an image of the dataset");
        var (train, validation, rule) = Split(images, options.ValidationFraction);

        Directory.CreateDirectory(outFolder);
        var skipped = new List<TrainingSkip>();
        int total = train.Sum(i => i.Findings.Count) + validation.Sum(i => i.Findings.Count), done = 0;
        var splits = new SortedDictionary<string, TrainingSplit>(StringComparer.Ordinal);
        foreach (var (name, splitImages, variants, stream) in new[]
                 {
                     (TrainingSplits.Train, train, options.Variants, 0UL),
                     (TrainingSplits.Validation, validation, 1, 1UL << 62),
                 })
        {
            var split = await WriteSplitAsync(root, Path.Combine(outFolder, name), name, splitImages, variants, stream, options, skipped,
                () => progress?.Report(new ExportProgress(++done, total)), cancellationToken).ConfigureAwait(false);
            if (split.Count == 0)
                throw new InvalidDataException($"dataset '{datasetFolder}': no usable {name} example ({skipped.Count} skipped: " +
                                               string.Join("; ", skipped.Take(3).Select(s => $"{s.Item}: {s.Reason}")) + ")");
            splits[name] = split;
        }
        var manifest = new TrainingDataManifest
        {
            Domain = DomainName, Preparation = options.Preparation,
            Source = new TrainingDataSource(datasetFolder, annotation.File, Convert.ToHexStringLower(SHA256.HashData(annotationBytes)), options.Seed, options.Variants, rule),
            Splits = splits, Skipped = skipped, Warnings = warnings,
        };
        await File.WriteAllBytesAsync(Path.Combine(outFolder, TrainingDataManifest.FileName), PipelineJson.SerializeToUtf8Bytes(manifest), cancellationToken).ConfigureAwait(false);
        return manifest;
    }

    /// <summary>
    /// Images into training and validation: the annotation file's split column when it names "training" and something
    /// else (VinDr-Mammo's official split); otherwise an image is held out when the first 8 hex digits of SHA-256(image
    /// id) / 0xFFFFFFFF fall below the fraction; a split left empty takes the last image (by id) into validation.
    /// </summary>
    public static (IReadOnlyList<AnnotatedImage> Train, IReadOnlyList<AnnotatedImage> Validation, string Rule) Split(IReadOnlyList<AnnotatedImage> images, double fraction)
    {
        var splits = images.Select(i => (i.Split ?? "training").Trim().ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
        if (splits.Contains("training") && splits.Count > 1)
            return (images.Where(i => IsTraining(i)).ToList(), images.Where(i => !IsTraining(i)).ToList(), "annotation split column (training / other)");
        var heldOut = images.Where(i => HashFraction(i.ImageId) < fraction).ToList();
        var kept = images.Where(i => HashFraction(i.ImageId) >= fraction).ToList();
        string rule = string.Create(CultureInfo.InvariantCulture, $"held out when sha256(image id)[0:8] / 0xFFFFFFFF < {fraction}");
        if (heldOut.Count == 0 || kept.Count == 0)
        {
            var last = images.Select(i => i.ImageId).Order(StringComparer.Ordinal).Last();
            kept = images.Where(i => i.ImageId != last).ToList();
            heldOut = images.Where(i => i.ImageId == last).ToList();
            if (kept.Count == 0) kept = heldOut;
            rule += "; too few images: the last image id is the validation split";
        }
        return (kept, heldOut, rule);

        static bool IsTraining(AnnotatedImage i) => string.Equals((i.Split ?? "training").Trim(), "training", StringComparison.OrdinalIgnoreCase);
    }

    private static double HashFraction(string imageId) =>
        Convert.ToUInt32(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(imageId)))[..8], 16) / (double)0xFFFFFFFF;

    private static async Task<TrainingSplit> WriteSplitAsync(string root, string folder, string name, IReadOnlyList<AnnotatedImage> images, int variants,
        ulong stream, TrainingExportOptions options, List<TrainingSkip> skipped, Action lesionDone, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var p = options.Preparation;
        int r = p.Resolution, s = p.ReferenceSize;
        var tensors = new SortedDictionary<string, NpyWriter>(StringComparer.Ordinal)
        {
            [ModelTensorNames.Original] = NpyWriter.Float32(Path.Combine(folder, ModelTensorNames.Original + ".npy"), r, r),
            [ModelTensorNames.Context] = NpyWriter.Float32(Path.Combine(folder, ModelTensorNames.Context + ".npy"), r, r),
            [ModelTensorNames.Mask] = NpyWriter.Float32(Path.Combine(folder, ModelTensorNames.Mask + ".npy"), r, r),
            [ModelTensorNames.Detail] = NpyWriter.Float32(Path.Combine(folder, ModelTensorNames.Detail + ".npy"), r, r),
            [ModelTensorNames.Reference] = NpyWriter.Float32(Path.Combine(folder, ModelTensorNames.Reference + ".npy"), s, s),
            [TrainingTensorNames.Box] = NpyWriter.Int32(Path.Combine(folder, TrainingTensorNames.Box + ".npy"), 4),
        };
        var examples = new List<TrainingExample>();
        try
        {
            ulong lesion = 0;
            foreach (var image in images)
            {
                cancellationToken.ThrowIfCancellationRequested();
                SourceImage? source = null;
                string? imageProblem = null;
                try
                {
                    var bytes = await File.ReadAllBytesAsync(Path.Combine(root, image.Path), cancellationToken).ConfigureAwait(false);
                    source = SourceImage.Decode(bytes, image.Path);
                }
                catch (Exception e) when (e is IOException or InvalidDataException or DicomException or NotSupportedException)
                {
                    imageProblem = $"{e.GetType().Name}: {e.Message}";
                }
                using (source)
                {
                    for (int k = 0; k < image.Findings.Count; k++, lesion++)
                    {
                        var finding = image.Findings[k];
                        string lesionId = $"{image.ImageId}#{k}";
                        if (source is null) { skipped.Add(new TrainingSkip(lesionId, imageProblem!)); lesionDone(); continue; }
                        for (int v = 0; v < variants; v++)
                        {
                            var rng = SplitMix64.ForItem(options.Seed, stream + lesion * (ulong)variants + (ulong)v);
                            var item = new WorkItem
                            {
                                ItemId = $"{name}-{lesionId}-v{v}", Mode = TaskMode.Reinsertion, TargetImage = image.Path, ReferenceImage = image.Path,
                                TargetBox = finding.Box, ReferenceBox = finding.Box, ClassName = finding.ClassName, Seed = (long)(rng.NextUInt64() >> 1),
                            };
                            Core.Domains.PreparedItem prepared;
                            try { prepared = ItemImaging.Prepare(item, source, source, p); }
                            catch (Exception e) when (e is ArgumentException or InvalidDataException)
                            {
                                skipped.Add(new TrainingSkip(lesionId, $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ")));
                                break; // the lesion's other variants fail the same way
                            }
                            foreach (var tensor in new[] { ModelTensorNames.Original, ModelTensorNames.Context, ModelTensorNames.Mask, ModelTensorNames.Detail, ModelTensorNames.Reference })
                                tensors[tensor].Append(prepared.Tensors.Get(tensor, item.ItemId));
                            var g = prepared.Geometry;
                            tensors[TrainingTensorNames.Box].Append(new[] { g.BoxLeft, g.BoxTop, g.BoxWidth, g.BoxHeight });
                            examples.Add(new TrainingExample
                            {
                                Index = examples.Count, Kind = TrainingPairKinds.Reinsertion, ImageId = image.ImageId, Image = image.Path,
                                ClassName = finding.ClassName, Box = finding.Box, ReferenceImage = image.Path, ReferenceBox = finding.Box,
                                Seed = item.Seed, Geometry = g,
                            });
                        }
                        lesionDone();
                    }
                }
            }
        }
        finally
        {
            foreach (var w in tensors.Values) w.Dispose();
        }
        const string itemsFile = "items.json";
        await File.WriteAllBytesAsync(Path.Combine(folder, itemsFile), PipelineJson.SerializeToUtf8Bytes(examples), cancellationToken).ConfigureAwait(false);
        var files = tensors.ToDictionary(t => t.Key, t => new TrainingTensorFile($"{name}/{t.Key}.npy",
            t.Key == TrainingTensorNames.Box ? "<i4" : "<f4",
            t.Key == TrainingTensorNames.Box ? [examples.Count, 4] : t.Key == ModelTensorNames.Reference ? [examples.Count, s, s] : [examples.Count, r, r]));
        return new TrainingSplit(examples.Count, new SortedDictionary<string, TrainingTensorFile>(files, StringComparer.Ordinal), $"{name}/{itemsFile}",
            new SortedDictionary<string, int>(StringComparer.Ordinal) { [TrainingPairKinds.Reinsertion] = examples.Count });
    }
}
