using System.Security.Cryptography;
using System.Text;
using Pipeline.Core.Contracts;
using Pipeline.Imaging.Codecs;
using Pipeline.Imaging.Dicom;

namespace Pipeline.Imaging.Ingestion;

/// <summary>A problem with one file (or with the annotation file at a line).</summary>
public sealed record DatasetFileError(string Path, string Message);

/// <summary>Box size statistics of one class, in pixels.</summary>
public sealed record BoxStatistics(int Count, double MinWidth, double MeanWidth, double MaxWidth, double MinHeight, double MeanHeight, double MaxHeight, double MeanArea);

/// <summary>What validation found: per-file errors, class counts, box statistics. Written beside _index.json by the hosts.</summary>
public sealed record DatasetValidationReport
{
    public const string BlobName = "_validation.json";
    public int SchemaVersion { get; init; } = 1;
    public required string Dataset { get; init; }
    public string? AnnotationFormat { get; init; }
    public string? AnnotationFile { get; init; }
    public int Files { get; init; }
    public int ReferencedImages { get; init; }
    public int ValidImages { get; init; }
    public int ImagesWithFindings { get; init; }
    public int Findings { get; init; }
    public IReadOnlyList<DatasetFileError> Errors { get; init; } = [];
    public IReadOnlyDictionary<string, int> ClassCounts { get; init; } = new Dictionary<string, int>();
    public IReadOnlyDictionary<string, BoxStatistics> BoxStatistics { get; init; } = new Dictionary<string, BoxStatistics>();
    public IReadOnlyDictionary<string, int> SplitCounts { get; init; } = new Dictionary<string, int>();
    /// <summary>Images whose Presentation Intent Type is FOR PROCESSING: reported, and not counted valid when skipped.</summary>
    public IReadOnlyList<string> ForProcessing { get; init; } = [];
    /// <summary>Image files present but not referenced by the annotations.</summary>
    public IReadOnlyList<string> Unreferenced { get; init; } = [];
    public bool IsValid => Errors.Count == 0;
}

/// <summary>The two documents ingestion produces, and how many files were taken unchanged from the previous index.</summary>
public sealed record DatasetIngestionResult(DatasetIndex Index, DatasetValidationReport Report, int ReusedFiles = 0);

/// <summary>Options of <see cref="DatasetIngestion"/>.</summary>
public sealed class DatasetIngestionOptions
{
    /// <summary>Decode every referenced image's pixels (true) or only its header (faster; catches less).</summary>
    public bool DecodePixels { get; set; } = true;

    /// <summary>Treat FOR PROCESSING images as errors (true: they cannot be used) or only report them.</summary>
    public bool SkipForProcessing { get; set; } = true;

    /// <summary>Largest image accepted, checked from the header before pixel data is read: DICOM frames by
    /// <see cref="DicomPixelLimits"/>, PNG and JPEG by <see cref="DicomPixelLimits.MaxFramePixels"/> (width x height).</summary>
    public DicomPixelLimits Limits { get; set; } = new();

    /// <summary>
    /// Files read and validated concurrently. Reading a blob is mostly waiting on storage, so this is above the core
    /// count; each file in flight is held in memory once (8 x a 30 MB mammogram = 240 MB at most).
    /// </summary>
    public int MaxDegreeOfParallelism { get; set; } = 8;
}

/// <summary>
/// Dataset ingestion as pure code over an <see cref="IDatasetSource"/>: lists the files, hashes each, reads the
/// annotation file (<see cref="DatasetAnnotations"/>), checks every referenced image opens and has its annotated size
/// and that every box lies inside it, and produces the _index.json content (<see cref="DatasetIndex"/>, problems and
/// resolved findings included) and a <see cref="DatasetValidationReport"/>. A bad file is an entry in the report, never
/// an exception. Findings given by masks are resolved here: CBIS-DDSM ROI mask images and, in a dataset without an
/// annotation file, DICOM Segmentation objects (<see cref="DicomSegmentation"/>) whose frames reference the dataset's
/// images by SOP Instance UID; each mask's bounding box becomes the finding's box.
/// <para>
/// Incremental: given the previous index, a file whose version (ETag) and size are unchanged, and that was indexed
/// under the same validation settings, is not read again. Its hash and, for an annotated image, what opening it found
/// (size, Presentation Intent, or why it cannot be opened) are reused; the annotation files are always re-read and the
/// checks against them run again. ROI masks and datasets given by Segmentations are always read.
/// </para>
/// </summary>
public static class DatasetIngestion
{
    private static readonly string[] ImageExtensions = [".dcm", ".dicom", ".png", ".jpg", ".jpeg"];

    /// <summary>What reading one file found (every field optional: a file may be an image, a mask or a Segmentation).</summary>
    private sealed class FileFacts
    {
        public bool Opened;
        public int Width, Height;
        public bool ForProcessing;
        public string? SopInstanceUid;
        public double[]? MaskBox;
        public List<(SegmentationFrame Frame, SegmentDescription Segment, double[]? Box)>? SegmentationFrames;
        public bool IsSegmentation => SegmentationFrames != null;
    }

    public static async Task<DatasetIngestionResult> RunAsync(IDatasetSource source, DatasetIngestionOptions? options = null,
        IProgress<int>? progress = null, DatasetIndex? previous = null, CancellationToken cancellationToken = default)
    {
        options ??= new DatasetIngestionOptions();
        string settings = $"decodePixels={options.DecodePixels}; {options.Limits}";
        var files = await source.ListDatasetFilesAsync(cancellationToken).ConfigureAwait(false);
        // each listed file's entry in the previous index (both sorted by path), when it was indexed under these settings
        var previousAt = previous?.ValidatedWith == settings ? MatchByPath(files, previous.Files) : null;
        var paths = files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);

        var errors = new List<DatasetFileError>();
        List<AnnotatedFinding> findings = [];
        var detected = DatasetAnnotations.Detect(paths);
        if (detected is { } d)
            foreach (var file in d.Files)
            {
                string text;
                await using (var s = await source.OpenReadAsync(file, cancellationToken).ConfigureAwait(false))
                using (var reader = new StreamReader(s, Encoding.UTF8))
                    text = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
                var annotationErrors = new List<string>();
                findings.AddRange(DatasetAnnotations.Parse(d.Format, file, text, annotationErrors));
                foreach (var e in annotationErrors) errors.Add(new DatasetFileError(file, e));
            }
        // Without an annotation file every DICOM file is opened: Segmentations among them give the findings.
        bool segmentationMode = detected is null;

        // Rows whose mask file is absent are dropped with their row named; the rest go on.
        findings = findings.Where(f =>
        {
            if (f.MaskPath is null || paths.Contains(f.MaskPath)) return true;
            errors.Add(new DatasetFileError(f.Source?.Split(':')[0] ?? f.MaskPath, $"{f.Source}: ROI mask '{f.MaskPath}' is not in the dataset; row skipped"));
            return false;
        }).ToList();
        var maskPaths = findings.Where(f => f.MaskPath != null).Select(f => f.MaskPath!).ToHashSet(StringComparer.Ordinal);
        var referenced = findings.Select(f => f.ImagePath).ToHashSet(StringComparer.Ordinal);

        // Hash every file; open referenced images, masks and (without an annotation file) every DICOM file. Entries are
        // finished out of order (several files in flight) and move into the compact list in path order as soon as
        // every earlier one is there, so only the files in flight are held as records.
        var indexFiles = new DatasetFile?[files.Count];
        var indexList = new DatasetFileList(files.Count);
        int nextToList = 0;
        void Finish(int i, DatasetFile entry)
        {
            lock (indexList)
            {
                indexFiles[i] = entry;
                while (nextToList < indexFiles.Length && indexFiles[nextToList] is { } ready)
                {
                    indexList.Add(ready);
                    indexFiles[nextToList++] = null;
                }
            }
        }
        var facts = new FileFacts?[files.Count];
        var fileErrors = new List<DatasetFileError>[files.Count];
        int done = 0, reused = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, files.Count), new ParallelOptions
        {
            MaxDegreeOfParallelism = Math.Max(1, options.MaxDegreeOfParallelism), CancellationToken = cancellationToken,
        }, async (i, ct) =>
        {
            var local = new List<DatasetFileError>(0); // kept only when the file has problems
            try { await IngestFileAsync(i, local, ct).ConfigureAwait(false); }
            finally { if (local.Count > 0) fileErrors[i] = local; }
        }).ConfigureAwait(false);

        async Task IngestFileAsync(int i, List<DatasetFileError> local, CancellationToken ct)
        {
            var f = files[i];
            bool isDicomFile = f.Path.EndsWith(".dcm", StringComparison.OrdinalIgnoreCase) || f.Path.EndsWith(".dicom", StringComparison.OrdinalIgnoreCase);
            bool isMask = maskPaths.Contains(f.Path), isImage = !isMask && referenced.Contains(f.Path);
            var before = previousAt is not null && previousAt[i] >= 0 ? previous!.Files[previousAt[i]] : null;
            if (before is not null && before.ETag != null && before.Sha256.Length == 64 && f.Version != null && before.ETag == f.Version && before.Size == f.Size
                && !isMask && !(segmentationMode && isDicomFile) && (!isImage || before.Image != null))
            {
                Finish(i, before with { ContentType = ContentTypeOf(f.Path), Image = isImage ? before.Image : null });
                if (isImage) facts[i] = FromIndex(f.Path, before.Image!, local);
                Interlocked.Increment(ref reused);
                progress?.Report(Interlocked.Increment(ref done));
                return;
            }
            if (await source.TryReadAllBytesAsync(f.Path, local, ct).ConfigureAwait(false) is not { } bytes)
            {
                Finish(i, new DatasetFile(f.Path, f.Size, "", ContentTypeOf(f.Path)));
                return;
            }
            DatasetImageFacts? recorded = null;
            if (isMask) facts[i] = OpenMask(f.Path, bytes, options, local);
            else if (isImage || (segmentationMode && isDicomFile))
            {
                int errorsBefore = local.Count;
                var fact = facts[i] = OpenImage(f.Path, bytes, options, local);
                if (isImage && !fact.IsSegmentation)
                    recorded = fact.Opened ? new DatasetImageFacts(fact.Width, fact.Height, fact.ForProcessing)
                        : new DatasetImageFacts(0, 0, false, local.Count > errorsBefore ? local[errorsBefore].Message : "cannot be opened");
            }
            Finish(i, new DatasetFile(f.Path, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)), ContentTypeOf(f.Path),
                bytes.Length == f.Size ? f.Version : null, recorded));
            progress?.Report(Interlocked.Increment(ref done));
        }
        foreach (var list in fileErrors) if (list != null) errors.AddRange(list);
        var factsByPath = new Dictionary<string, FileFacts>(StringComparer.Ordinal);
        for (int i = 0; i < files.Count; i++) if (facts[i] is { } x) factsByPath[files[i].Path] = x;

        AnnotationFormat? format = detected?.Format;
        if (segmentationMode)
        {
            if (factsByPath.Values.Any(x => x.IsSegmentation))
            {
                format = AnnotationFormat.DicomSeg;
                findings = SegmentationFindings(files, factsByPath, errors);
            }
            else errors.Add(new DatasetFileError("", $"no annotation file: expected {DatasetAnnotations.ExpectedFiles} at the dataset root"));
        }
        else findings = ResolveMasks(findings, factsByPath, errors);

        // Per image: opened, the annotated size, every box inside.
        var byImage = findings.GroupBy(f => f.ImagePath, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var validImages = new HashSet<string>(StringComparer.Ordinal);
        var forProcessing = new List<string>();
        foreach (var (path, rows) in byImage)
        {
            var sizes = rows.Where(r => r.Width != null || r.Height != null).Select(r => (r.Width, r.Height)).Distinct().ToList();
            if (sizes.Count > 1) errors.Add(new DatasetFileError(path, $"annotated with different sizes: {string.Join(", ", sizes.Select(s => $"{s.Width}x{s.Height}"))}"));
            if (!paths.Contains(path)) { errors.Add(new DatasetFileError(path, "referenced by the annotations but not in the dataset")); continue; }
            if (!factsByPath.TryGetValue(path, out var fact) || !fact.Opened) continue; // its error is already listed
            if (fact.IsSegmentation) { errors.Add(new DatasetFileError(path, "is a DICOM Segmentation, referenced as an image")); continue; }
            if (fact.ForProcessing) forProcessing.Add(path);
            if (CheckImage(path, fact, rows, options, errors)) validImages.Add(path);
        }

        var unreferenced = files.Where(f => ImageExtensions.Any(e => f.Path.EndsWith(e, StringComparison.OrdinalIgnoreCase))
                && !byImage.ContainsKey(f.Path) && !maskPaths.Contains(f.Path) && !(factsByPath.TryGetValue(f.Path, out var x) && (x.IsSegmentation || !x.Opened)))
            .Select(f => f.Path).ToList();

        var boxes = findings.Where(f => f.Box != null && f.ClassName != null).ToList();
        var classCounts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var b in boxes) foreach (var c in b.ClassName!.Split('|')) classCounts[c] = classCounts.GetValueOrDefault(c) + 1;
        var boxStats = new SortedDictionary<string, BoxStatistics>(StringComparer.Ordinal);
        foreach (var g in boxes.SelectMany(b => b.ClassName!.Split('|').Select(c => (c, b.Box!))).GroupBy(p => p.c, StringComparer.Ordinal))
        {
            var w = g.Select(p => p.Item2[2] - p.Item2[0]).ToList();
            var h = g.Select(p => p.Item2[3] - p.Item2[1]).ToList();
            boxStats[g.Key] = new BoxStatistics(w.Count, w.Min(), w.Average(), w.Max(), h.Min(), h.Average(), h.Max(), w.Zip(h, (a, b) => a * b).Average());
        }
        var splitCounts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var (_, rows) in byImage) { var s = rows[0].Split ?? "(none)"; splitCounts[s] = splitCounts.GetValueOrDefault(s) + 1; }

        errors.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path) is var c && c != 0 ? c : string.CompareOrdinal(a.Message, b.Message));
        forProcessing.Sort(StringComparer.Ordinal);
        var report = new DatasetValidationReport
        {
            Dataset = source.Name,
            AnnotationFormat = format?.ToString(),
            AnnotationFile = detected is { } det ? string.Join(", ", det.Files) : null,
            Files = files.Count,
            ReferencedImages = byImage.Count,
            ValidImages = validImages.Count,
            ImagesWithFindings = byImage.Count(kv => kv.Value.Any(r => r.Box != null)),
            Findings = boxes.Count,
            Errors = errors,
            ClassCounts = classCounts,
            BoxStatistics = boxStats,
            SplitCounts = splitCounts,
            ForProcessing = forProcessing,
            Unreferenced = unreferenced,
        };
        long totalBytes = 0;
        for (int i = 0; i < indexList.Count; i++) totalBytes += indexList.SizeAt(i);
        var findingList = new DatasetFindingList();
        foreach (var f in findings)
        {
            if (!validImages.Contains(f.ImagePath)) continue;
            var fact = factsByPath[f.ImagePath];
            findingList.Add(new DatasetFinding(f.ImagePath, f.ImageId, fact.Width, fact.Height, f.Box == null ? null : f.ClassName,
                f.Box is { } b ? new BoundingBox(b[0], b[1], b[2], b[3]) : null, f.Split, f.Laterality, f.View, f.Source ?? (detected is { } dd ? $"{dd.File}:{f.Line}" : null)));
        }
        var index = new DatasetIndex
        {
            Dataset = source.Name,
            FileCount = indexList.Count,
            TotalBytes = totalBytes,
            Files = indexList,
            Problems = errors.Select(e => e.Path.Length == 0 ? e.Message : $"{e.Path}: {e.Message}").ToList(),
            ValidatedWith = settings,
            AnnotationFormat = format?.ToString(),
            Findings = findingList,
        };
        return new DatasetIngestionResult(index, report, reused);
    }

    /// <summary>
    /// For each listed file, the position of the entry with its path in <paramref name="previous"/>, or -1: a merge of two
    /// lists sorted by path (ordinal), without a dictionary of the previous index's paths. An entry out of order in a
    /// hand-made index is only not found (its file is read again).
    /// </summary>
    private static int[] MatchByPath(List<DatasetSourceFile> files, IReadOnlyList<DatasetFile> previous)
    {
        var compact = previous as DatasetFileList;
        var at = new int[files.Count];
        int j = 0;
        for (int i = 0; i < files.Count; i++)
        {
            int c = 1;
            while (j < previous.Count && (c = compact?.ComparePath(j, files[i].Path) ?? string.CompareOrdinal(previous[j].Path, files[i].Path)) < 0) j++;
            at[i] = j < previous.Count && c == 0 ? j : -1;
        }
        return at;
    }

    /// <summary>What an unchanged image was found to be last time, with the same error it gave then.</summary>
    private static FileFacts FromIndex(string path, DatasetImageFacts image, List<DatasetFileError> errors)
    {
        if (image.OpenError is { } problem) errors.Add(new DatasetFileError(path, problem));
        return new FileFacts { Opened = image.OpenError is null, Width = image.Width, Height = image.Height, ForProcessing = image.ForProcessing };
    }

    /// <summary>Findings of a dataset given by Segmentations: each non-empty frame's mask box on the image it references;
    /// each DICOM image no Segmentation covers is an image without findings.</summary>
    private static List<AnnotatedFinding> SegmentationFindings(List<DatasetSourceFile> files, Dictionary<string, FileFacts> facts, List<DatasetFileError> errors)
    {
        var byUid = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in files)
            if (facts.TryGetValue(f.Path, out var x) && x.Opened && !x.IsSegmentation && x.SopInstanceUid is { } uid && !byUid.TryAdd(uid, f.Path))
                errors.Add(new DatasetFileError(f.Path, $"SOP Instance UID {uid} is also used by {byUid[uid]}"));
        var result = new List<AnnotatedFinding>();
        var covered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in files)
        {
            if (!facts.TryGetValue(f.Path, out var seg) || !seg.IsSegmentation) continue;
            foreach (var (frame, segment, box) in seg.SegmentationFrames!)
            {
                string where = $"{f.Path} frame {frame.Index + 1}";
                if (frame.ReferencedSopInstanceUid is not { } uid)
                { errors.Add(new DatasetFileError(f.Path, $"frame {frame.Index + 1} does not say which image it segments (no Derivation Image Sequence and not exactly one referenced instance)")); continue; }
                if (!byUid.TryGetValue(uid, out var image))
                { errors.Add(new DatasetFileError(f.Path, $"frame {frame.Index + 1} segments SOP Instance UID {uid}, which no image of the dataset has")); continue; }
                covered.Add(image);
                if (box is null) continue; // an empty frame marks no finding
                result.Add(new AnnotatedFinding(image, Path.GetFileNameWithoutExtension(image), null, seg.Width, seg.Height, segment.ClassName, box,
                    null, null, null, frame.Index + 1, f.Path, where));
            }
        }
        foreach (var f in files)
            if (facts.TryGetValue(f.Path, out var x) && x.Opened && !x.IsSegmentation && !covered.Contains(f.Path))
                result.Add(new AnnotatedFinding(f.Path, Path.GetFileNameWithoutExtension(f.Path), null, null, null, null, null, null, null, null, 0, null, f.Path));
        return result;
    }

    /// <summary>Gives each mask-annotated row its mask's box; a mask that cannot be read or is empty drops its row, named.</summary>
    private static List<AnnotatedFinding> ResolveMasks(List<AnnotatedFinding> findings, Dictionary<string, FileFacts> facts, List<DatasetFileError> errors)
    {
        var result = new List<AnnotatedFinding>(findings.Count);
        foreach (var f in findings)
        {
            if (f.MaskPath is null) { result.Add(f); continue; }
            string file = f.Source?.Split(':')[0] ?? f.MaskPath;
            if (!facts.TryGetValue(f.MaskPath, out var mask) || !mask.Opened) { errors.Add(new DatasetFileError(file, $"{f.Source}: ROI mask '{f.MaskPath}' cannot be opened; row skipped")); continue; }
            if (facts.TryGetValue(f.ImagePath, out var image) && image.Opened && (image.Width != mask.Width || image.Height != mask.Height))
            {
                errors.Add(new DatasetFileError(file, $"{f.Source}: ROI mask '{f.MaskPath}' is {mask.Width}x{mask.Height} but the image '{f.ImagePath}' is {image.Width}x{image.Height}; row skipped"));
                continue;
            }
            if (mask.MaskBox is null) { errors.Add(new DatasetFileError(file, $"{f.Source}: ROI mask '{f.MaskPath}' is empty; row skipped")); continue; }
            result.Add(f with { Box = mask.MaskBox, Width = mask.Width, Height = mask.Height });
        }
        return result;
    }

    /// <summary>Opens a DICOM, PNG or JPEG image (or, for a DICOM, a Segmentation) and records what it is.</summary>
    private static FileFacts OpenImage(string path, byte[] bytes, DatasetIngestionOptions options, List<DatasetFileError> errors)
    {
        var fact = new FileFacts();
        try
        {
            if (PngCodec.IsPng(bytes) || JpegCodec.IsJpeg(bytes))
            {
                using var img = DecodeRaster(path, bytes, options);
                (fact.Width, fact.Height) = (img.Width, img.Height);
            }
            else
            {
                var header = DicomFile.Read(bytes, path, new DicomReadOptions { StopBeforePixelData = true });
                if (DicomSegmentation.IsSegmentation(header.Dataset))
                {
                    var seg = DicomSegmentation.Read(bytes, path, options.Limits);
                    var segments = seg.Segments.ToDictionary(s => s.Number);
                    (fact.Width, fact.Height) = (seg.Columns, seg.Rows);
                    fact.SegmentationFrames = seg.Frames.Select(f => (f, segments[f.SegmentNumber], f.BoundingBox(seg.Columns))).ToList();
                }
                else if (options.DecodePixels)
                {
                    using var img = DicomImage.Read(bytes, path, new DicomImageReadOptions { SkipForProcessing = false, Limits = options.Limits });
                    (fact.Width, fact.Height, fact.ForProcessing) = (img.Attributes.Columns, img.Attributes.Rows, img.Attributes.IsForProcessing);
                    fact.SopInstanceUid = img.Attributes.SopInstanceUid;
                }
                else
                {
                    var a = DicomImageAttributes.From(header);
                    options.Limits.Check(path, a.Rows, a.Columns, a.SamplesPerPixel, a.NumberOfFrames, a.BitsAllocated);
                    (fact.Width, fact.Height, fact.ForProcessing) = (a.Columns, a.Rows, a.IsForProcessing);
                    fact.SopInstanceUid = a.SopInstanceUid;
                }
            }
            fact.Opened = true;
        }
        catch (Exception ex) when (ex is DicomException or ImageFormatException or ArgumentException or InvalidDataException)
        {
            errors.Add(new DatasetFileError(path, "cannot be opened: " + (ex is DicomException de ? de.Problem : ex.Message)));
        }
        return fact;
    }

    /// <summary>Opens an ROI mask image (DICOM, PNG or JPEG): its size and the bounding box of its non-zero pixels.</summary>
    private static FileFacts OpenMask(string path, byte[] bytes, DatasetIngestionOptions options, List<DatasetFileError> errors)
    {
        var fact = new FileFacts();
        try
        {
            Pipeline.Imaging.Buffers.ImageBuffer buffer;
            DicomImage? dicom = null;
            if (PngCodec.IsPng(bytes) || JpegCodec.IsJpeg(bytes)) buffer = DecodeRaster(path, bytes, options);
            else
            {
                dicom = DicomImage.Read(bytes, path, new DicomImageReadOptions { SkipForProcessing = false, Limits = options.Limits });
                buffer = dicom.Stored;
            }
            using (dicom)
            using (var f = buffer.ToFloat32())
            {
                if (dicom is null) buffer.Dispose();
                (fact.Width, fact.Height) = (f.Width, f.Height);
                int x0 = int.MaxValue, y0 = int.MaxValue, x1 = -1, y1 = -1;
                for (int y = 0; y < f.Height; y++)
                {
                    var row = f.Row<float>(y);
                    for (int x = 0; x < f.Width; x++)
                    {
                        // Only the first channel: masks are gray; an RGB mask has equal channels.
                        if (row[x * f.Channels] == 0) continue;
                        if (x < x0) x0 = x;
                        if (x > x1) x1 = x;
                        if (y < y0) y0 = y;
                        y1 = y;
                    }
                }
                fact.MaskBox = x1 < 0 ? null : [x0, y0, x1 + 1, y1 + 1];
            }
            fact.Opened = true;
        }
        catch (Exception ex) when (ex is DicomException or ImageFormatException or ArgumentException or InvalidDataException)
        {
            errors.Add(new DatasetFileError(path, "cannot be opened: " + (ex is DicomException de ? de.Problem : ex.Message)));
        }
        return fact;
    }

    private static Pipeline.Imaging.Buffers.ImageBuffer DecodeRaster(string path, byte[] bytes, DatasetIngestionOptions options)
    {
        long maxPixels = options.Limits.MaxFramePixels;
        return PngCodec.IsPng(bytes)
            ? PngCodec.Decode(bytes, path, new ImageDecodeOptions { MaxPixels = maxPixels })
            : JpegCodec.Decode(bytes, path, new JpegDecodeOptions { MaxPixels = maxPixels });
    }

    /// <summary>Checks an opened image against its annotation rows: FOR PROCESSING, annotated size, boxes inside.</summary>
    private static bool CheckImage(string path, FileFacts fact, List<AnnotatedFinding> rows, DatasetIngestionOptions options, List<DatasetFileError> errors)
    {
        int width = fact.Width, height = fact.Height;
        bool ok = true;
        if (fact.ForProcessing && options.SkipForProcessing)
        {
            errors.Add(new DatasetFileError(path, "Presentation Intent Type is FOR PROCESSING (raw detector data); not usable for display-space augmentation"));
            ok = false;
        }
        var annotated = rows.FirstOrDefault(r => r.Width != null || r.Height != null);
        if (annotated != null && ((annotated.Width != null && annotated.Width != width) || (annotated.Height != null && annotated.Height != height)))
        {
            string from = annotated.MaskPath != null && annotated.Source != null && annotated.Source.StartsWith(annotated.MaskPath, StringComparison.Ordinal)
                ? $" (by {annotated.MaskPath})" : "";
            errors.Add(new DatasetFileError(path, $"image is {width}x{height} but annotated as {annotated.Width}x{annotated.Height} (width x height){from}"));
            ok = false;
        }
        foreach (var r in rows.Where(r => r.Box != null))
        {
            var b = r.Box!;
            if (b[0] < 0 || b[1] < 0 || b[2] > width || b[3] > height)
            {
                string where = r.Source != null && r.Line > 0 && r.MaskPath == null ? $"annotation line {r.Line}" : r.Source ?? $"annotation line {r.Line}";
                errors.Add(new DatasetFileError(path, $"box [{b[0]}, {b[1]}, {b[2]}, {b[3]}] ({where}) leaves the {width}x{height} image"));
                ok = false;
            }
        }
        return ok;
    }

    private static string? ContentTypeOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".dcm" or ".dicom" => "application/dicom",
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".csv" => "text/csv",
        ".json" => "application/json",
        _ => null,
    };
}
