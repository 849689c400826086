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
/// and that every box lies inside it, and produces the _index.json content (<see cref="DatasetIndex"/>, problems
/// included) and a <see cref="DatasetValidationReport"/>. A bad file is an entry in the report, never an exception.
/// <para>
/// Incremental: given the previous index, a file whose version (ETag) and size are unchanged, and that was indexed
/// under the same validation settings, is not read again. Its hash and image facts (size, Presentation Intent, or why
/// it cannot be opened) are reused, and only the checks against the annotations (which are always re-read) run again.
/// </para>
/// </summary>
public static class DatasetIngestion
{
    private static readonly HashSet<string> Generated = new(StringComparer.Ordinal) { DatasetIndex.BlobName, DatasetValidationReport.BlobName };

    public static async Task<DatasetIngestionResult> RunAsync(IDatasetSource source, DatasetIngestionOptions? options = null,
        IProgress<int>? progress = null, DatasetIndex? previous = null, CancellationToken cancellationToken = default)
    {
        options ??= new DatasetIngestionOptions();
        string settings = $"decodePixels={options.DecodePixels}; {options.Limits}";
        var known = previous?.ValidatedWith == settings
            ? previous.Files.Where(f => f.ETag != null && f.Sha256.Length == 64).ToDictionary(f => f.Path, StringComparer.Ordinal)
            : new Dictionary<string, DatasetFile>(StringComparer.Ordinal);
        var files = new List<DatasetSourceFile>();
        await foreach (var f in source.ListAsync(cancellationToken).ConfigureAwait(false))
            if (!Generated.Contains(f.Path)) files.Add(f);
        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        var paths = files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);

        var errors = new List<DatasetFileError>();
        var annotationErrors = new List<string>();
        List<AnnotatedFinding> findings = [];
        var detected = DatasetAnnotations.Detect(paths);
        if (detected is { } d)
        {
            string text;
            await using (var s = await source.OpenReadAsync(d.File, cancellationToken).ConfigureAwait(false))
            using (var reader = new StreamReader(s, Encoding.UTF8))
                text = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            findings = DatasetAnnotations.Parse(d.Format, d.File, text, annotationErrors);
            foreach (var e in annotationErrors) errors.Add(new DatasetFileError(d.File, e));
        }
        else errors.Add(new DatasetFileError("", $"no annotation file: expected {DatasetAnnotations.VinDrFile}, {DatasetAnnotations.GenericCsvFile} or {DatasetAnnotations.GenericJsonFile} at the dataset root"));

        var byImage = findings.GroupBy(f => f.ImagePath, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        foreach (var (path, rows) in byImage)
        {
            var sizes = rows.Select(r => (r.Width, r.Height)).Distinct().ToList();
            if (sizes.Count > 1) errors.Add(new DatasetFileError(path, $"annotated with different sizes: {string.Join(", ", sizes.Select(s => $"{s.Width}x{s.Height}"))}"));
            if (!paths.Contains(path)) errors.Add(new DatasetFileError(path, "referenced by the annotations but not in the dataset"));
        }

        // Hash every file; validate referenced images.
        var indexFiles = new DatasetFile[files.Count];
        var valid = new bool[files.Count];
        var forProcessing = new List<string>();
        var fileErrors = new List<DatasetFileError>[files.Count];
        int done = 0, reused = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, files.Count), new ParallelOptions
        {
            MaxDegreeOfParallelism = Math.Max(1, options.MaxDegreeOfParallelism), CancellationToken = cancellationToken,
        }, async (i, ct) =>
        {
            var f = files[i];
            var local = fileErrors[i] = [];
            bool referenced = byImage.TryGetValue(f.Path, out var rows);
            if (known.TryGetValue(f.Path, out var before) && f.Version != null && before.ETag == f.Version && before.Size == f.Size
                && (!referenced || before.Image != null))
            {
                indexFiles[i] = before with { ContentType = ContentTypeOf(f.Path), Image = referenced ? before.Image : null };
                if (referenced) Check(f.Path, before.Image!, rows!, options, local, valid, i, forProcessing);
                Interlocked.Increment(ref reused);
                progress?.Report(Interlocked.Increment(ref done));
                return;
            }
            byte[] bytes;
            try
            {
                await using var s = await source.OpenReadAsync(f.Path, ct).ConfigureAwait(false);
                using var ms = new MemoryStream();
                await s.CopyToAsync(ms, ct).ConfigureAwait(false);
                bytes = ms.ToArray();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                local.Add(new DatasetFileError(f.Path, "cannot be read: " + ex.Message));
                indexFiles[i] = new DatasetFile(f.Path, f.Size, "", ContentTypeOf(f.Path));
                return;
            }
            var facts = referenced ? OpenImage(f.Path, bytes, options) : null;
            indexFiles[i] = new DatasetFile(f.Path, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)), ContentTypeOf(f.Path),
                bytes.Length == f.Size ? f.Version : null, facts);
            if (referenced) Check(f.Path, facts!, rows!, options, local, valid, i, forProcessing);
            progress?.Report(Interlocked.Increment(ref done));
        }).ConfigureAwait(false);
        foreach (var list in fileErrors) if (list != null) errors.AddRange(list);

        var imageExtensions = new[] { ".dcm", ".dicom", ".png", ".jpg", ".jpeg" };
        var unreferenced = files.Where(f => imageExtensions.Any(e => f.Path.EndsWith(e, StringComparison.OrdinalIgnoreCase)) && !byImage.ContainsKey(f.Path))
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
            AnnotationFormat = detected?.Format.ToString(),
            AnnotationFile = detected?.File,
            Files = files.Count,
            ReferencedImages = byImage.Count,
            ValidImages = valid.Count(v => v),
            ImagesWithFindings = byImage.Count(kv => kv.Value.Any(r => r.Box != null)),
            Findings = boxes.Count,
            Errors = errors,
            ClassCounts = classCounts,
            BoxStatistics = boxStats,
            SplitCounts = splitCounts,
            ForProcessing = forProcessing,
            Unreferenced = unreferenced,
        };
        var index = new DatasetIndex
        {
            Dataset = source.Name,
            FileCount = indexFiles.Length,
            TotalBytes = indexFiles.Sum(f => f.Size),
            Files = indexFiles,
            Problems = errors.Select(e => e.Path.Length == 0 ? e.Message : $"{e.Path}: {e.Message}").ToList(),
            ValidatedWith = settings,
        };
        return new DatasetIngestionResult(index, report, reused);
    }

    private static void Check(string path, DatasetImageFacts facts, List<AnnotatedFinding> rows, DatasetIngestionOptions options, List<DatasetFileError> errors,
        bool[] valid, int i, List<string> forProcessing)
    {
        var (ok, fp) = CheckImage(path, facts, rows, options, errors);
        valid[i] = ok;
        if (fp) lock (forProcessing) forProcessing.Add(path);
    }

    /// <summary>Opens one image: its size and Presentation Intent, or why it cannot be opened.</summary>
    private static DatasetImageFacts OpenImage(string path, byte[] bytes, DatasetIngestionOptions options)
    {
        int width, height;
        bool forProcessing = false;
        try
        {
            if (PngCodec.IsPng(bytes) || JpegCodec.IsJpeg(bytes))
            {
                long maxPixels = options.Limits.MaxFramePixels;
                using var img = PngCodec.IsPng(bytes)
                    ? PngCodec.Decode(bytes, path, new ImageDecodeOptions { MaxPixels = maxPixels })
                    : JpegCodec.Decode(bytes, path, new JpegDecodeOptions { MaxPixels = maxPixels });
                (width, height) = (img.Width, img.Height);
            }
            else if (options.DecodePixels)
            {
                using var img = DicomImage.Read(bytes, path, new DicomImageReadOptions { SkipForProcessing = false, Limits = options.Limits });
                (width, height, forProcessing) = (img.Attributes.Columns, img.Attributes.Rows, img.Attributes.IsForProcessing);
            }
            else
            {
                var file = DicomFile.Read(bytes, path, new DicomReadOptions { StopBeforePixelData = true });
                var a = DicomImageAttributes.From(file);
                options.Limits.Check(path, a.Rows, a.Columns, a.SamplesPerPixel, a.NumberOfFrames, a.BitsAllocated);
                (width, height, forProcessing) = (a.Columns, a.Rows, a.IsForProcessing);
            }
        }
        catch (Exception ex) when (ex is DicomException or ImageFormatException or ArgumentException or InvalidDataException)
        {
            return new DatasetImageFacts(0, 0, false, ex is DicomException de ? de.Problem : ex.Message);
        }
        return new DatasetImageFacts(width, height, forProcessing);
    }

    /// <summary>Checks an opened image against its annotation rows; returns (usable, FOR PROCESSING).</summary>
    private static (bool Ok, bool ForProcessing) CheckImage(string path, DatasetImageFacts facts, List<AnnotatedFinding> rows, DatasetIngestionOptions options, List<DatasetFileError> errors)
    {
        if (facts.OpenError is { } problem)
        {
            errors.Add(new DatasetFileError(path, "cannot be opened: " + problem));
            return (false, false);
        }
        var (width, height, forProcessing) = (facts.Width, facts.Height, facts.ForProcessing);
        bool ok = true;
        if (forProcessing && options.SkipForProcessing)
        {
            errors.Add(new DatasetFileError(path, "Presentation Intent Type is FOR PROCESSING (raw detector data); not usable for display-space augmentation"));
            ok = false;
        }
        var annotated = rows[0];
        if ((annotated.Width != null && annotated.Width != width) || (annotated.Height != null && annotated.Height != height))
        {
            errors.Add(new DatasetFileError(path, $"image is {width}x{height} but annotated as {annotated.Width}x{annotated.Height} (width x height)"));
            ok = false;
        }
        foreach (var r in rows.Where(r => r.Box != null))
        {
            var b = r.Box!;
            if (b[0] < 0 || b[1] < 0 || b[2] > width || b[3] > height)
            {
                errors.Add(new DatasetFileError(path, $"box [{b[0]}, {b[1]}, {b[2]}, {b[3]}] (annotation line {r.Line}) leaves the {width}x{height} image"));
                ok = false;
            }
        }
        return (ok, forProcessing);
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
