using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Pipeline.Imaging.Dicom;

namespace Pipeline.Imaging.Synthetic;

/// <summary>Settings of a synthetic mammography dataset.</summary>
public sealed class SyntheticMammoOptions
{
    /// <summary>Number of images; studies hold four views (L-CC, L-MLO, R-CC, R-MLO), the last one may be partial.</summary>
    public int Count { get; set; } = 8;
    public ulong Seed { get; set; }
    public int Rows { get; set; } = 1024;
    public int Columns { get; set; } = 832;
    /// <summary>Physical height of the field of view in mm; the pixel spacing is this over <see cref="Rows"/>.</summary>
    public double FieldHeightMm { get; set; } = 240;
    /// <summary>Fraction of breasts with at least one finding.</summary>
    public double PositiveFraction { get; set; } = 0.7;
    /// <summary>Fraction of studies stored MONOCHROME1 (inverted), as some vendors do; 0 by default.</summary>
    public double Monochrome1Fraction { get; set; }
    /// <summary>Fraction of studies in the "test" split (the rest are "training"), as VinDr-Mammo's split column.</summary>
    public double TestFraction { get; set; } = 0.2;

    public void Validate()
    {
        if (Count < 1) throw new ArgumentOutOfRangeException(nameof(Count), Count, "count must be at least 1");
        if (Rows < 64 || Columns < 64 || Rows > 8192 || Columns > 8192)
            throw new ArgumentOutOfRangeException(nameof(Rows), $"{Rows}x{Columns}: rows and columns must be within 64..8192");
        foreach (var (name, f) in new[] { (nameof(PositiveFraction), PositiveFraction), (nameof(Monochrome1Fraction), Monochrome1Fraction), (nameof(TestFraction), TestFraction) })
            if (f is < 0 or > 1 || double.IsNaN(f)) throw new ArgumentOutOfRangeException(name, f, "must be within [0, 1]");
        if (!(FieldHeightMm > 10 && FieldHeightMm < 1000)) throw new ArgumentOutOfRangeException(nameof(FieldHeightMm), FieldHeightMm, "must be within 10..1000 mm");
    }
}

/// <summary>One generated image: its identifiers, relative path, DICOM file and the findings drawn.</summary>
public sealed record SyntheticMammoImage(string StudyId, string SeriesId, string ImageId, string RelativePath, string Split,
    string BreastBirads, string BreastDensity, MammoPhantomImage Phantom, DicomFile File);

/// <summary>What <see cref="SyntheticMammoDataset.WriteAsync"/> produced.</summary>
public sealed record SyntheticMammoSummary(int Images, int Studies, int Findings, IReadOnlyDictionary<string, int> FindingsByCategory, string AnnotationFile);

/// <summary>
/// A synthetic mammography dataset in VinDr-Mammo's layout: <c>images/{study_id}/{image_id}.dicom</c> and
/// <c>finding_annotations.csv</c> (one row per finding, "No Finding" rows for negative images), plus
/// <c>synthetic_truth.json</c> with each lesion's kind. Every image depends only on (seed, study index, view), so the
/// first N images are the same whatever the count.
/// </summary>
public static class SyntheticMammoDataset
{
    public const string AnnotationFileName = "finding_annotations.csv";
    public const string TruthFileName = "synthetic_truth.json";

    /// <summary>VinDr-Mammo finding_annotations.csv columns, in order.</summary>
    public static readonly string[] CsvColumns =
        ["study_id", "series_id", "image_id", "laterality", "view_position", "height", "width", "breast_birads", "breast_density",
         "finding_categories", "finding_birads", "xmin", "ymin", "xmax", "ymax", "split"];

    private static readonly (BreastSide Side, MammoView View)[] Views =
        [(BreastSide.L, MammoView.CC), (BreastSide.L, MammoView.MLO), (BreastSide.R, MammoView.CC), (BreastSide.R, MammoView.MLO)];

    /// <summary>Generates the images lazily, in order.</summary>
    public static IEnumerable<SyntheticMammoImage> Generate(SyntheticMammoOptions options)
    {
        options.Validate();
        int produced = 0;
        for (int s = 0; produced < options.Count; s++)
        {
            var study = StudyPlan.Create(options, s);
            for (int v = 0; v < Views.Length && produced < options.Count; v++, produced++)
                yield return MakeImage(options, study, s, v);
        }
    }

    /// <summary>
    /// Writes the dataset through <paramref name="write"/> (relative path, bytes): a folder writer for the CLI, a blob
    /// writer for the hosts. Returns counts for the summary.
    /// </summary>
    public static async Task<SyntheticMammoSummary> WriteAsync(SyntheticMammoOptions options,
        Func<string, ReadOnlyMemory<byte>, CancellationToken, Task> write, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        var csv = new StringBuilder();
        csv.AppendLine(string.Join(',', CsvColumns));
        var truth = new StringBuilder("[\n");
        var byCategory = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int images = 0, findings = 0;
        var studies = new HashSet<string>();
        foreach (var image in Generate(options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            await write(image.RelativePath, DicomFileWriter.ToBytes(image.File), cancellationToken).ConfigureAwait(false);
            foreach (var row in AnnotationRows(image)) csv.AppendLine(row);
            foreach (var l in image.Phantom.Lesions)
            {
                findings++;
                byCategory[l.Category] = byCategory.GetValueOrDefault(l.Category) + 1;
                truth.Append(CultureInfo.InvariantCulture, $"  {{\"image_id\": \"{image.ImageId}\", \"kind\": \"{l.Kind}\", \"category\": \"{l.Category}\", \"birads\": {l.Birads}, ")
                     .Append(CultureInfo.InvariantCulture, $"\"box\": [{l.Box.XMin:0.##}, {l.Box.YMin:0.##}, {l.Box.XMax:0.##}, {l.Box.YMax:0.##}], \"contrast\": {l.Contrast:0.####}}},\n");
            }
            studies.Add(image.StudyId);
            images++; // not inside progress?.Report(...): a null-conditional call skips evaluating its argument
            progress?.Report(images);
        }
        if (truth.Length > 2 && truth[^2] == ',') truth.Remove(truth.Length - 2, 1);
        truth.Append("]\n");
        await write(AnnotationFileName, Encoding.UTF8.GetBytes(csv.ToString()), cancellationToken).ConfigureAwait(false);
        await write(TruthFileName, Encoding.UTF8.GetBytes(truth.ToString()), cancellationToken).ConfigureAwait(false);
        return new SyntheticMammoSummary(images, studies.Count, findings, byCategory, AnnotationFileName);
    }

    /// <summary>Writes the dataset into a folder.</summary>
    public static Task<SyntheticMammoSummary> WriteToFolderAsync(SyntheticMammoOptions options, string folder, IProgress<int>? progress = null, CancellationToken cancellationToken = default) =>
        WriteAsync(options, FolderWriter(folder), progress, cancellationToken);

    /// <summary>A writer of relative paths under <paramref name="folder"/> (created now).</summary>
    internal static Func<string, ReadOnlyMemory<byte>, CancellationToken, Task> FolderWriter(string folder)
    {
        Directory.CreateDirectory(folder);
        return async (rel, bytes, ct) =>
        {
            var path = Path.Combine(folder, rel.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, bytes.ToArray(), ct).ConfigureAwait(false);
        };
    }

    /// <summary>The image's rows of finding_annotations.csv (VinDr-Mammo conventions: a Python-list category string, "BI-RADS n").</summary>
    public static IEnumerable<string> AnnotationRows(SyntheticMammoImage image)
    {
        var p = image.Phantom;
        string Prefix() => string.Join(',', image.StudyId, image.SeriesId, image.ImageId, p.Spec.Side.ToString(), p.Spec.View.ToString(),
            p.Spec.Rows.ToString(CultureInfo.InvariantCulture), p.Spec.Columns.ToString(CultureInfo.InvariantCulture), image.BreastBirads, image.BreastDensity);
        if (p.Lesions.Count == 0)
        {
            yield return $"{Prefix()},['No Finding'],,,,,,{image.Split}";
            yield break;
        }
        foreach (var l in p.Lesions)
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{Prefix()},['{l.Category}'],BI-RADS {l.Birads},{l.Box.XMin:0.##},{l.Box.YMin:0.##},{l.Box.XMax:0.##},{l.Box.YMax:0.##},{image.Split}");
    }

    internal static string Hex(string name) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..32];

    private sealed record StudyPlan(int Index, string StudyId, int Age, string DensityCategory, double Density, bool Monochrome1, string Split,
        IReadOnlyList<LesionSpec>[] LesionsBySide)
    {
        public static StudyPlan Create(SyntheticMammoOptions o, int s)
        {
            var r = PhantomRandom.For(o.Seed, 100, s);
            int age = r.Next(40, 76);
            double u = r.NextDouble();
            var (cat, lo, hi) = u < 0.1 ? ("A", 0.05, 0.2) : u < 0.5 ? ("B", 0.25, 0.45) : u < 0.9 ? ("C", 0.5, 0.68) : ("D", 0.7, 0.85);
            double density = r.Uniform(lo, hi);
            bool m1 = r.Chance(o.Monochrome1Fraction);
            string split = r.Chance(o.TestFraction) ? "test" : "training";
            var sides = new IReadOnlyList<LesionSpec>[2];
            for (int side = 0; side < 2; side++)
            {
                var list = new List<LesionSpec>();
                if (r.Chance(o.PositiveFraction))
                {
                    int n = r.Chance(0.8) ? 1 : 2;
                    for (int k = 0; k < n; k++)
                    {
                        double q = r.NextDouble();
                        var (kind, smin, smax) = q < 0.3 ? (LesionKind.CircumscribedMass, 8.0, 22.0) : q < 0.5 ? (LesionKind.SpiculatedMass, 12.0, 26.0)
                            : q < 0.8 ? (LesionKind.CalcificationCluster, 4.0, 12.0) : (LesionKind.Asymmetry, 15.0, 35.0);
                        list.Add(new LesionSpec(kind, r.Uniform(smin, smax), r.NextUInt64()));
                    }
                }
                sides[side] = list;
            }
            return new StudyPlan(s, Hex($"synth-mammo/{o.Seed}/study/{s}"), age, cat, density, m1, split, sides);
        }
    }

    private static SyntheticMammoImage MakeImage(SyntheticMammoOptions o, StudyPlan study, int s, int v)
    {
        var (side, view) = Views[v];
        double spacing = o.FieldHeightMm / o.Rows;
        // The same lesions appear in both views of a breast, each view placing them independently (shape seeds differ per view).
        var lesions = study.LesionsBySide[(int)side].Select((l, k) => l with { ShapeSeed = l.ShapeSeed ^ (ulong)(view + 1) * 0x9E3779B97F4A7C15UL }).ToList();
        var spec = new MammoImageSpec(o.Rows, o.Columns, spacing, view, side, (ulong)PhantomRandom.For(o.Seed, 200, s, v).NextUInt64(), study.Density, lesions);
        return CreateImage($"synth-mammo/{o.Seed}", study.StudyId, s, v, spec, $"SYN{o.Seed % 100000:D5}{s:D5}", study.Age, study.DensityCategory,
            study.Monochrome1, study.Split);
    }

    /// <summary>
    /// Renders <paramref name="spec"/> and wraps it in a DICOM whose identifiers derive from <paramref name="ns"/>, the
    /// study index <paramref name="s"/> and the view index <paramref name="v"/> (deterministic UIDs).
    /// </summary>
    internal static SyntheticMammoImage CreateImage(string ns, string studyId, int s, int v, MammoImageSpec spec, string patientId, int age,
        string densityCategory, bool monochrome1, string split)
    {
        var phantom = MammoPhantom.Render(spec);
        string seriesId = Hex($"{ns}/series/{s}/{v}"), imageId = Hex($"{ns}/image/{s}/{v}");
        string birads = phantom.Lesions.Count == 0 ? "BI-RADS 1" : $"BI-RADS {phantom.Lesions.Max(l => l.Birads)}";
        var file = MammoDicomFactory.Create(phantom, new MammoDicomIdentity(
            PatientId: patientId, PatientName: $"Synthetic^Patient{s:D5}", Age: age,
            StudyInstanceUid: DicomUid.FromName($"{ns}/study/{s}"),
            SeriesInstanceUid: DicomUid.FromName($"{ns}/series/{s}/{v}"),
            SopInstanceUid: DicomUid.FromName($"{ns}/image/{s}/{v}"),
            FrameOfReferenceUid: DicomUid.FromName($"{ns}/frame/{s}/{spec.Side}"),
            StudyId: $"{s + 1}", AccessionNumber: $"SYNACC{s:D6}", SeriesNumber: v + 1, InstanceNumber: 1,
            StudyDate: new DateOnly(2024, 1, 1).AddDays(s % 365), Monochrome1: monochrome1));
        return new SyntheticMammoImage(studyId, seriesId, imageId, $"images/{studyId}/{imageId}.dicom", split,
            birads, $"DENSITY {densityCategory}", phantom, file);
    }
}
