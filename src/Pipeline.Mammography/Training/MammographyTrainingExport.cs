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
/// as tensors with a manifest (<see cref="TrainingDataManifest"/>). Pair kinds (<see cref="TrainingPairKinds"/>):
/// <list type="bullet">
/// <item>reinsertion: every annotated lesion with itself as the reference, <see cref="TrainingExportOptions.Variants"/>
/// per training lesion, one per validation lesion, each with its own seed and so its own crop ratio;</item>
/// <item>lesion-transfer (with <see cref="TrainingExportOptions.TransferPairs"/>): the pairs of a
/// <c>pipeline synth lesion-transfer</c> folder, the target crop from the target image at its lesion, the reference from
/// the other image; variants as for reinsertion; the pairs file's split column decides the split;</item>
/// <item>insertion (<see cref="TrainingExportOptions.Insertions"/> per lesion): the lesion as the reference of an
/// insertion into a lesion-free image of the same split, at a box of its size drawn in the breast tissue as the run's
/// planner draws it (<see cref="InsertionSampler"/>).</item>
/// </list>
/// Every example also carries the copy&amp;paste baseline crop the run measures against. Images are split by image,
/// never by lesion. An example that cannot be prepared (unreadable image, box outside it) is skipped with the reason.
/// </summary>
public static class MammographyTrainingExport
{
    public const string DomainName = MammographyDomain.DomainName;

    /// <summary>Progress: jobs (lesions, pairs, insertions) done of the total.</summary>
    public readonly record struct ExportProgress(int Done, int Total);

    /// <summary>The tensors of every split: the model inputs, the copy&amp;paste crop and the box.</summary>
    public static readonly string[] ImageTensors =
        [ModelTensorNames.Original, ModelTensorNames.Context, ModelTensorNames.Mask, ModelTensorNames.Detail, ModelTensorNames.Reference, ModelTensorNames.CopyPaste];

    /// <summary>One thing to prepare (all its variants): where target and reference come from.</summary>
    private sealed record ExportJob(string Kind, string Id, string Source, string ImageId, string TargetPath, BoundingBox? TargetBox,
        string ReferencePath, BoundingBox ReferenceBox, string ClassName, ulong Stream, int Variants, IReadOnlyList<AnnotatedImage>? InsertionTargets = null);

    public static async Task<TrainingDataManifest> ExportAsync(string datasetFolder, string outFolder, TrainingExportOptions options,
        IProgress<ExportProgress>? progress, CancellationToken cancellationToken)
    {
        if (options.Problems() is { Count: > 0 } problems) throw new ArgumentException("train-data export: " + string.Join("; ", problems));
        var warnings = new List<string>();
        var (root, annotationFile, annotationSha, allImages) = await ReadDatasetAsync(datasetFolder, warnings, cancellationToken).ConfigureAwait(false);
        var (train, validation, rule) = Split(allImages, options.ValidationFraction);
        if (!train.Concat(validation).Any(i => i.Findings.Count > 0))
            throw new InvalidDataException($"dataset '{datasetFolder}': {annotationFile} has no lesion box on an image of the dataset");
        IReadOnlyList<LesionTransferPairFile.Pair> pairs = [];
        string? transferRoot = null, transferSha = null;
        if (options.TransferPairs is { } transferFolder)
        {
            transferRoot = Path.GetFullPath(transferFolder);
            (pairs, transferSha) = await LesionTransferPairFile.ReadAsync(transferRoot, warnings, cancellationToken).ConfigureAwait(false);
        }

        Directory.CreateDirectory(outFolder);
        var skipped = new List<TrainingSkip>();
        var jobs = new Dictionary<string, List<ExportJob>>(StringComparer.Ordinal)
        {
            [TrainingSplits.Train] = Jobs(train, pairs.Where(p => p.IsTraining), options.Variants, options.Insertions, 0UL, warnings, TrainingSplits.Train),
            [TrainingSplits.Validation] = Jobs(validation, pairs.Where(p => !p.IsTraining), 1, options.Insertions, 1UL << 62, warnings, TrainingSplits.Validation),
        };
        int total = jobs.Values.Sum(j => j.Count), done = 0;
        var roots = new Dictionary<string, string>(StringComparer.Ordinal) { [TrainingExampleSources.Dataset] = root };
        if (transferRoot is not null) roots[TrainingExampleSources.TransferPairs] = transferRoot;
        var splits = new SortedDictionary<string, TrainingSplit>(StringComparer.Ordinal);
        foreach (var (name, splitJobs) in jobs)
        {
            var split = await WriteSplitAsync(roots, Path.Combine(outFolder, name), name, splitJobs, options, skipped,
                () => progress?.Report(new ExportProgress(++done, total)), cancellationToken).ConfigureAwait(false);
            if (split.Count == 0)
                throw new InvalidDataException($"dataset '{datasetFolder}': no usable {name} example ({skipped.Count} skipped: " +
                                               string.Join("; ", skipped.Take(3).Select(s => $"{s.Item}: {s.Reason}")) + ")");
            splits[name] = split;
        }
        var manifest = new TrainingDataManifest
        {
            Domain = DomainName, Preparation = options.Preparation,
            Source = new TrainingDataSource(datasetFolder, annotationFile, annotationSha, options.Seed, options.Variants, rule,
                options.TransferPairs, transferSha, options.Insertions),
            Splits = splits, Skipped = skipped, Warnings = warnings,
        };
        await File.WriteAllBytesAsync(Path.Combine(outFolder, TrainingDataManifest.FileName), PipelineJson.SerializeToUtf8Bytes(manifest), cancellationToken).ConfigureAwait(false);
        return manifest;
    }

    /// <summary>The dataset's images (with and without findings, by path) from its annotation file(s).</summary>
    internal static async Task<(string Root, string AnnotationFile, string AnnotationSha256, IReadOnlyList<AnnotatedImage> Images)> ReadDatasetAsync(
        string datasetFolder, List<string> warnings, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(datasetFolder);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"dataset folder '{datasetFolder}' does not exist");
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).ToHashSet(StringComparer.Ordinal);
        if (DatasetAnnotations.Detect(files) is not { } annotation)
            throw new InvalidDataException($"dataset '{datasetFolder}' has no annotation file: expected {DatasetAnnotations.ExpectedFiles}");
        var findings = new List<AnnotatedFinding>();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in annotation.Files)
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(root, file), cancellationToken).ConfigureAwait(false);
            sha.AppendData(bytes);
            findings.AddRange(DatasetAnnotations.Parse(annotation.Format, file, Encoding.UTF8.GetString(bytes), warnings));
        }
        var images = DatasetImages.FromFindings(findings, "", files, warnings).OrderBy(i => i.Path, StringComparer.Ordinal).ToList();
        return (root, string.Join(",", annotation.Files), Convert.ToHexStringLower(sha.GetHashAndReset()), images);
    }

    /// <summary>A split's jobs: reinsertion per lesion, then lesion-transfer per pair, then insertions per lesion.</summary>
    private static List<ExportJob> Jobs(IReadOnlyList<AnnotatedImage> images, IEnumerable<LesionTransferPairFile.Pair> pairs, int variants, int insertions,
        ulong stream, List<string> warnings, string split)
    {
        var jobs = new List<ExportJob>();
        ulong lesion = 0;
        foreach (var image in images)
            for (int k = 0; k < image.Findings.Count; k++, lesion++)
                jobs.Add(new ExportJob(TrainingPairKinds.Reinsertion, $"{image.ImageId}#{k}", TrainingExampleSources.Dataset, image.ImageId, image.Path,
                    image.Findings[k].Box, image.Path, image.Findings[k].Box, image.Findings[k].ClassName, stream + lesion * (ulong)variants, variants));
        ulong pairIndex = 0;
        foreach (var p in pairs)
            jobs.Add(new ExportJob(TrainingPairKinds.LesionTransfer, $"pair {p.PairId}", TrainingExampleSources.TransferPairs, p.TargetImageId, p.TargetPath,
                p.TargetBox, p.ReferencePath, p.ReferenceBox, p.Category, stream + (1UL << 61) + pairIndex++ * (ulong)variants, variants));
        if (insertions > 0)
        {
            var healthy = images.Where(i => i.Findings.Count == 0).ToList();
            var lesions = images.SelectMany(i => i.Findings.Select((f, k) => (Image: i, Finding: f, K: k))).ToList();
            if (healthy.Count == 0 && lesions.Count > 0)
                warnings.Add($"{split}: no image without findings, so no insertion examples");
            else
            {
                ulong n = 0;
                foreach (var (image, finding, k) in lesions)
                    for (int i = 0; i < insertions; i++, n++)
                        jobs.Add(new ExportJob(TrainingPairKinds.Insertion, $"{image.ImageId}#{k} insertion {i}", TrainingExampleSources.Dataset, "", "",
                            null, image.Path, finding.Box, finding.ClassName, stream + (1UL << 60) + n, 1, healthy));
            }
        }
        return jobs;
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
        if (heldOut.Count(i => i.Findings.Count > 0) == 0 || kept.Count(i => i.Findings.Count > 0) == 0)
        {
            var last = images.Where(i => i.Findings.Count > 0).Select(i => i.ImageId).Order(StringComparer.Ordinal).LastOrDefault();
            kept = images.Where(i => i.ImageId != last).ToList();
            heldOut = images.Where(i => i.ImageId == last).ToList();
            if (kept.Count(i => i.Findings.Count > 0) == 0) kept = heldOut;
            rule += "; too few images: the last image id with a lesion is the validation split";
        }
        return (kept, heldOut, rule);

        static bool IsTraining(AnnotatedImage i) => string.Equals((i.Split ?? "training").Trim(), "training", StringComparison.OrdinalIgnoreCase);
    }

    private static double HashFraction(string imageId) =>
        Convert.ToUInt32(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(imageId)))[..8], 16) / (double)0xFFFFFFFF;

    private static async Task<TrainingSplit> WriteSplitAsync(IReadOnlyDictionary<string, string> roots, string folder, string name, IReadOnlyList<ExportJob> jobs,
        TrainingExportOptions options, List<TrainingSkip> skipped, Action jobDone, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var p = options.Preparation;
        int r = p.Resolution, s = p.ReferenceSize;
        var tensors = new SortedDictionary<string, NpyWriter>(StringComparer.Ordinal);
        foreach (var t in ImageTensors)
            tensors[t] = t == ModelTensorNames.Reference ? NpyWriter.Float32(Path.Combine(folder, t + ".npy"), s, s) : NpyWriter.Float32(Path.Combine(folder, t + ".npy"), r, r);
        tensors[TrainingTensorNames.Box] = NpyWriter.Int32(Path.Combine(folder, TrainingTensorNames.Box + ".npy"), 4);
        var examples = new List<TrainingExample>();
        using var images = new DecodedImages();
        try
        {
            foreach (var planned in jobs)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var jobRoot = roots[planned.Source];
                for (int v = 0; v < planned.Variants; v++)
                {
                    var job = planned;
                    var rng = SplitMix64.ForItem(options.Seed, job.Stream + (ulong)v);
                    WorkItem item;
                    SourceImage target, reference;
                    try
                    {
                        reference = await images.GetAsync(jobRoot, job.ReferencePath, cancellationToken).ConfigureAwait(false);
                        if (job.InsertionTargets is { } healthy)
                        {
                            var host = healthy[rng.NextInt(healthy.Count)];
                            target = await images.GetAsync(jobRoot, host.Path, cancellationToken).ConfigureAwait(false);
                            var fg = images.Foreground(jobRoot, host.Path, target);
                            var b = InsertionSampler.Sample(fg, target.Width, target.Height, job.ReferenceBox.Width, job.ReferenceBox.Height, ref rng).Box;
                            job = job with { ImageId = host.ImageId, TargetPath = host.Path, TargetBox = new BoundingBox(b.Left, b.Top, b.Left + b.Width, b.Top + b.Height) };
                        }
                        else target = await images.GetAsync(jobRoot, job.TargetPath, cancellationToken).ConfigureAwait(false);
                        item = new WorkItem
                        {
                            ItemId = $"{name}-{job.Kind}-{job.Id}-v{v}", TargetImage = job.TargetPath, ReferenceImage = job.ReferencePath,
                            Mode = job.Kind switch { TrainingPairKinds.Insertion => TaskMode.Insertion, TrainingPairKinds.LesionTransfer => TaskMode.Replacement, _ => TaskMode.Reinsertion },
                            TargetBox = job.TargetBox!, ReferenceBox = job.ReferenceBox, ClassName = job.ClassName, Seed = (long)(rng.NextUInt64() >> 1),
                        };
                    }
                    catch (Exception e) when (e is IOException or InvalidDataException or DicomException or NotSupportedException or ArgumentException)
                    {
                        skipped.Add(new TrainingSkip(planned.Id, $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ")));
                        break; // the job's other variants fail the same way
                    }
                    Core.Domains.PreparedItem prepared;
                    try { prepared = ItemImaging.Prepare(item, target, reference, p); }
                    catch (Exception e) when (e is ArgumentException or InvalidDataException)
                    {
                        skipped.Add(new TrainingSkip(planned.Id, $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ")));
                        break;
                    }
                    foreach (var tensor in ImageTensors)
                        tensors[tensor].Append(prepared.Tensors.Get(tensor, item.ItemId));
                    var g = prepared.Geometry;
                    tensors[TrainingTensorNames.Box].Append(new[] { g.BoxLeft, g.BoxTop, g.BoxWidth, g.BoxHeight });
                    examples.Add(new TrainingExample
                    {
                        Index = examples.Count, Kind = job.Kind, Source = job.Source, ImageId = job.ImageId, Image = item.TargetImage,
                        ClassName = job.ClassName, Box = item.TargetBox, ReferenceImage = item.ReferenceImage, ReferenceBox = item.ReferenceBox,
                        Seed = item.Seed, Geometry = g,
                    });
                }
                jobDone();
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
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in examples) kinds[e.Kind] = kinds.GetValueOrDefault(e.Kind) + 1;
        return new TrainingSplit(examples.Count, new SortedDictionary<string, TrainingTensorFile>(files, StringComparer.Ordinal), $"{name}/{itemsFile}", kinds);
    }

    /// <summary>The few images the export is working on, decoded once (reinsertion reuses its image, a pair needs two,
    /// an insertion a lesion-free image and its breast mask); older ones are released.</summary>
    private sealed class DecodedImages : IDisposable
    {
        private const int Keep = 4;
        private readonly List<(string Key, SourceImage Image, byte[]? Foreground)> _recent = [];

        public async Task<SourceImage> GetAsync(string root, string path, CancellationToken cancellationToken)
        {
            string key = Path.Combine(root, path);
            int at = _recent.FindIndex(e => e.Key == key);
            if (at >= 0)
            {
                var hit = _recent[at]; // most recently used last, so an image in use is never the one released
                _recent.RemoveAt(at);
                _recent.Add(hit);
                return hit.Image;
            }
            var bytes = await File.ReadAllBytesAsync(key, cancellationToken).ConfigureAwait(false);
            var image = SourceImage.Decode(bytes, path);
            _recent.Add((key, image, null));
            if (_recent.Count > Keep)
            {
                _recent[0].Image.Dispose();
                _recent.RemoveAt(0);
            }
            return image;
        }

        public byte[] Foreground(string root, string path, SourceImage image)
        {
            string key = Path.Combine(root, path);
            int at = _recent.FindIndex(e => e.Key == key);
            if (at >= 0 && _recent[at].Foreground is { } cached) return cached;
            var fg = BreastForegroundMask.Compute(image.Display.Pixels<float>(), image.Width, image.Height);
            if (at >= 0) _recent[at] = (key, image, fg);
            return fg;
        }

        public void Dispose()
        {
            foreach (var e in _recent) e.Image.Dispose();
            _recent.Clear();
        }
    }
}
