using System.Globalization;
using System.Text;
using Pipeline.Imaging.Dicom;

namespace Pipeline.Imaging.Synthetic;

/// <summary>Settings of a lesion-transfer pair dataset (<see cref="LesionTransferPairs"/>).</summary>
public sealed class LesionTransferOptions
{
    public int Pairs { get; set; } = 8;
    public ulong Seed { get; set; }
    public int Rows { get; set; } = 1024;
    public int Columns { get; set; } = 832;
    public double FieldHeightMm { get; set; } = 240;
    /// <summary>The target's lesion size is the reference's times U[1 - j, 1 + j].</summary>
    public double SizeJitter { get; set; } = 0.15;
    /// <summary>The target's lesion contrast (exposure) is the reference's times U[1 - j, 1 + j].</summary>
    public double ContrastJitter { get; set; } = 0.2;
    /// <summary>Fraction of pairs in the "test" split (both images of a pair share it).</summary>
    public double TestFraction { get; set; } = 0.2;

    public void Validate()
    {
        if (Pairs < 1) throw new ArgumentOutOfRangeException(nameof(Pairs), Pairs, "pairs must be at least 1");
        new SyntheticMammoOptions { Count = 1, Rows = Rows, Columns = Columns, FieldHeightMm = FieldHeightMm, TestFraction = TestFraction }.Validate();
        foreach (var (name, j) in new[] { (nameof(SizeJitter), SizeJitter), (nameof(ContrastJitter), ContrastJitter) })
            if (j is < 0 or >= 1 || double.IsNaN(j)) throw new ArgumentOutOfRangeException(name, j, "must be within [0, 1)");
    }
}

/// <summary>
/// One lesion-transfer pair: the same lesion (one appearance seed: shape, density, spiculation, calcification pattern)
/// drawn over two different tissues (different image seeds, densities, views), at different positions, with the
/// target's size and contrast jittered. The reference's background therefore never matches the target's.
/// </summary>
public sealed record LesionTransferPair(string PairId, LesionKind Kind, SyntheticMammoImage Reference, PlacedLesion ReferenceLesion,
    SyntheticMammoImage Target, PlacedLesion TargetLesion, double SizeScale, double ContrastScale);

/// <summary>What <see cref="LesionTransferPairs.WriteAsync"/> produced.</summary>
public sealed record LesionTransferSummary(int Pairs, int Images, int Skipped, IReadOnlyDictionary<string, int> PairsByCategory, string PairsFile);

/// <summary>
/// Lesion-transfer training pairs (AnyDoor takes the reference from another video frame; the phantom makes it exact):
/// a VinDr-layout dataset of two one-lesion images per pair plus <c>lesion_transfer_pairs.csv</c> naming, per pair, the
/// reference image and box and the target image and box. Training on these, the target crop (the ground truth) holds
/// the lesion over the target's own tissue, so copying the reference's pixels, background included, is penalised.
/// Deterministic: pair k depends only on (seed, k).
/// </summary>
public static class LesionTransferPairs
{
    public const string PairsFileName = "lesion_transfer_pairs.csv";

    public static readonly string[] PairColumns =
        ["pair_id", "category", "reference_image_id", "reference_xmin", "reference_ymin", "reference_xmax", "reference_ymax",
         "target_image_id", "target_xmin", "target_ymin", "target_xmax", "target_ymax", "size_scale", "contrast_scale", "split"];

    private static readonly (BreastSide Side, MammoView View)[] Views =
        [(BreastSide.L, MammoView.CC), (BreastSide.L, MammoView.MLO), (BreastSide.R, MammoView.CC), (BreastSide.R, MammoView.MLO)];

    /// <summary>The pairs, lazily and in order; a pair whose lesion found no place in one of its images (rare) is skipped.</summary>
    public static IEnumerable<LesionTransferPair> Generate(LesionTransferOptions options)
    {
        options.Validate();
        string ns = $"synth-mammo-transfer/{options.Seed}";
        double spacing = options.FieldHeightMm / options.Rows;
        for (int k = 0; k < options.Pairs; k++)
        {
            var r = PhantomRandom.For(options.Seed, 300, k);
            double q = r.NextDouble();
            var (kind, smin, smax) = q < 0.3 ? (LesionKind.CircumscribedMass, 8.0, 22.0) : q < 0.5 ? (LesionKind.SpiculatedMass, 12.0, 26.0)
                : q < 0.8 ? (LesionKind.CalcificationCluster, 4.0, 12.0) : (LesionKind.Asymmetry, 15.0, 35.0);
            double size = r.Uniform(smin, smax);
            ulong appearance = r.NextUInt64();
            double sizeScale = r.Uniform(1 - options.SizeJitter, 1 + options.SizeJitter);
            double contrastScale = r.Uniform(1 - options.ContrastJitter, 1 + options.ContrastJitter);
            string split = r.Chance(options.TestFraction) ? "test" : "training";
            SyntheticMammoImage Image(int v, double sizeMm, double contrast)
            {
                int study = 2 * k + v; // each image its own study (another woman's tissue)
                string studyId = SyntheticMammoDataset.Hex($"{ns}/study/{study}");
                var (side, view) = Views[(int)(r.NextUInt64() % 4)];
                double density = r.Uniform(0.05, 0.85);
                var lesion = new LesionSpec(kind, sizeMm, r.NextUInt64(), appearance, contrast);
                var spec = new MammoImageSpec(options.Rows, options.Columns, spacing, view, side, r.NextUInt64(), density, [lesion]);
                string category = density < 0.2 ? "A" : density < 0.47 ? "B" : density < 0.69 ? "C" : "D";
                return SyntheticMammoDataset.CreateImage(ns, studyId, study, 0, spec, $"SYT{options.Seed % 100000:D5}{study:D5}", 40 + (int)(r.NextUInt64() % 36),
                    category, monochrome1: false, split);
            }
            var reference = Image(0, size, 1.0);
            var target = Image(1, size * sizeScale, contrastScale);
            if (reference.Phantom.Lesions.Count != 1 || target.Phantom.Lesions.Count != 1) continue;
            yield return new LesionTransferPair(SyntheticMammoDataset.Hex($"{ns}/pair/{k}")[..16], kind, reference, reference.Phantom.Lesions[0],
                target, target.Phantom.Lesions[0], sizeScale, contrastScale);
        }
    }

    /// <summary>The pair's row of lesion_transfer_pairs.csv.</summary>
    public static string PairRow(LesionTransferPair p)
    {
        var a = p.ReferenceLesion.Box;
        var b = p.TargetLesion.Box;
        return string.Create(CultureInfo.InvariantCulture,
            $"{p.PairId},{p.ReferenceLesion.Category},{p.Reference.ImageId},{a.XMin:0.##},{a.YMin:0.##},{a.XMax:0.##},{a.YMax:0.##},{p.Target.ImageId},{b.XMin:0.##},{b.YMin:0.##},{b.XMax:0.##},{b.YMax:0.##},{p.SizeScale:0.####},{p.ContrastScale:0.####},{p.Reference.Split}");
    }

    /// <summary>Writes the images, finding_annotations.csv (VinDr rows of every image) and lesion_transfer_pairs.csv.</summary>
    public static async Task<LesionTransferSummary> WriteAsync(LesionTransferOptions options, Func<string, ReadOnlyMemory<byte>, CancellationToken, Task> write,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        var annotations = new StringBuilder().AppendLine(string.Join(',', SyntheticMammoDataset.CsvColumns));
        var pairs = new StringBuilder().AppendLine(string.Join(',', PairColumns));
        var byCategory = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int written = 0;
        foreach (var p in Generate(options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var image in new[] { p.Reference, p.Target })
            {
                await write(image.RelativePath, DicomFileWriter.ToBytes(image.File), cancellationToken).ConfigureAwait(false);
                foreach (var row in SyntheticMammoDataset.AnnotationRows(image)) annotations.AppendLine(row);
            }
            pairs.AppendLine(PairRow(p));
            byCategory[p.ReferenceLesion.Category] = byCategory.GetValueOrDefault(p.ReferenceLesion.Category) + 1;
            written++;
            progress?.Report(written);
        }
        await write(SyntheticMammoDataset.AnnotationFileName, Encoding.UTF8.GetBytes(annotations.ToString()), cancellationToken).ConfigureAwait(false);
        await write(PairsFileName, Encoding.UTF8.GetBytes(pairs.ToString()), cancellationToken).ConfigureAwait(false);
        return new LesionTransferSummary(written, 2 * written, options.Pairs - written, byCategory, PairsFileName);
    }

    /// <summary>Writes the pair dataset into a folder.</summary>
    public static Task<LesionTransferSummary> WriteToFolderAsync(LesionTransferOptions options, string folder, IProgress<int>? progress = null, CancellationToken cancellationToken = default) =>
        WriteAsync(options, SyntheticMammoDataset.FolderWriter(folder), progress, cancellationToken);
}
