using Pipeline.Imaging.Synthetic;

namespace Pipeline.Imaging.Tests.Synthetic;

public class LesionTransferPairsTests
{
    private const int Rows = 384, Columns = 312;
    private const double Spacing = 240.0 / Rows;

    private static MammoPhantomImage Render(ulong tissueSeed, double density, params LesionSpec[] lesions) =>
        MammoPhantom.Render(new MammoImageSpec(Rows, Columns, Spacing, MammoView.CC, BreastSide.L, tissueSeed, density, lesions));

    /// <summary>The lesion's own contribution: the image with it minus the same image without it (same tissue and noise
    /// seeds), inside its box, as a box-sized array.</summary>
    private static double[] Contribution(ulong tissueSeed, double density, LesionSpec lesion, out PixelBox box)
    {
        var with = Render(tissueSeed, density, lesion);
        var without = Render(tissueSeed, density);
        box = Assert.Single(with.Lesions).Box;
        int x0 = (int)box.XMin, y0 = (int)box.YMin, w = (int)box.Width, h = (int)box.Height;
        var c = new double[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = (y0 + y) * Columns + x0 + x;
                c[y * w + x] = with.Pixels[i] - (double)without.Pixels[i];
            }
        return c;
    }

    private static double Correlation(double[] a, double[] b)
    {
        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb); }
        return sab / Math.Sqrt(saa * sbb);
    }

    [Theory]
    [InlineData(LesionKind.SpiculatedMass)]
    [InlineData(LesionKind.CalcificationCluster)]
    [InlineData(LesionKind.CircumscribedMass)]
    public void One_appearance_seed_draws_the_same_lesion_over_other_tissue_at_another_place(LesionKind kind)
    {
        var a = Contribution(11, 0.3, new LesionSpec(kind, 14, ShapeSeed: 1, AppearanceSeed: 777), out var boxA);
        var b = Contribution(22, 0.7, new LesionSpec(kind, 14, ShapeSeed: 2, AppearanceSeed: 777), out var boxB);
        Assert.True(Math.Abs(boxA.XMin - boxB.XMin) + Math.Abs(boxA.YMin - boxB.YMin) > 10, $"placed at {boxA} and {boxB}: not moved");
        Assert.Equal(boxA.Width, boxB.Width);
        Assert.Equal(boxA.Height, boxB.Height);
        Assert.True(Correlation(a, b) > 0.95, $"same appearance seed: correlation {Correlation(a, b):0.###}");
        var other = Contribution(22, 0.7, new LesionSpec(kind, 14, ShapeSeed: 2, AppearanceSeed: 778), out var boxC);
        if (boxC.Width == boxA.Width && boxC.Height == boxA.Height)
            Assert.True(Correlation(a, other) < 0.9, $"another appearance seed: correlation {Correlation(a, other):0.###}");
    }

    [Fact]
    public void Contrast_scale_multiplies_the_lesion_and_without_an_appearance_seed_nothing_changes()
    {
        var a = Contribution(11, 0.3, new LesionSpec(LesionKind.CircumscribedMass, 14, 5, AppearanceSeed: 9), out _);
        var b = Contribution(11, 0.3, new LesionSpec(LesionKind.CircumscribedMass, 14, 5, AppearanceSeed: 9, ContrastScale: 1.2), out _);
        Assert.Equal(1.2, b.Sum() / a.Sum(), 2);
        // Specs without the new fields render exactly as before (the placement stream continues into the drawing).
        var legacy = Render(11, 0.3, new LesionSpec(LesionKind.CircumscribedMass, 14, 5));
        Assert.Equal(legacy.Pixels, Render(11, 0.3, new LesionSpec(LesionKind.CircumscribedMass, 14, 5, null, 1.0)).Pixels);
    }

    [Fact]
    public void Pairs_put_one_lesion_over_two_different_tissues_and_are_deterministic()
    {
        var options = new LesionTransferOptions { Pairs = 4, Seed = 3, Rows = Rows, Columns = Columns };
        var pairs = LesionTransferPairs.Generate(options).ToList();
        Assert.True(pairs.Count >= 3);
        foreach (var p in pairs)
        {
            Assert.Equal(p.ReferenceLesion.Kind, p.TargetLesion.Kind);
            Assert.NotEqual(p.Reference.ImageId, p.Target.ImageId);
            Assert.NotEqual(p.Reference.StudyId, p.Target.StudyId);
            Assert.NotEqual(p.Reference.Phantom.Spec.Seed, p.Target.Phantom.Spec.Seed);
            Assert.InRange(p.SizeScale, 0.85, 1.15);
            Assert.InRange(p.ContrastScale, 0.8, 1.2);
            // The reference's background is other tissue: the rings around the two boxes differ.
            double ra = RingMean(p.Reference.Phantom, p.ReferenceLesion.Box), rb = RingMean(p.Target.Phantom, p.TargetLesion.Box);
            Assert.True(Math.Abs(ra - rb) > 1, $"pair {p.PairId}: ring means {ra:0.#} and {rb:0.#}");
        }
        var again = LesionTransferPairs.Generate(options).Select(p => (p.PairId, p.Target.Phantom.Pixels.Sum(v => (long)v))).ToList();
        Assert.Equal(pairs.Select(p => (p.PairId, p.Target.Phantom.Pixels.Sum(v => (long)v))), again);
        Assert.Equal(LesionTransferPairs.PairColumns.Length, LesionTransferPairs.PairRow(pairs[0]).Split(',').Length);
    }

    [Fact]
    public async Task The_dataset_lists_both_images_and_the_pairs()
    {
        var files = new Dictionary<string, byte[]>();
        var summary = await LesionTransferPairs.WriteAsync(new LesionTransferOptions { Pairs = 2, Seed = 8, Rows = 256, Columns = 208 },
            (rel, bytes, _) => { files[rel] = bytes.ToArray(); return Task.CompletedTask; });
        var pairs = System.Text.Encoding.UTF8.GetString(files[LesionTransferPairs.PairsFileName]).Trim().Split('\n');
        Assert.Equal(summary.Pairs + 1, pairs.Length);
        var annotations = System.Text.Encoding.UTF8.GetString(files[SyntheticMammoDataset.AnnotationFileName]);
        foreach (var row in pairs.Skip(1))
        {
            var f = row.Split(',');
            Assert.Contains(f[2], annotations);
            Assert.Contains(f[7], annotations);
            Assert.Contains(files.Keys, k => k.EndsWith(f[2] + ".dicom", StringComparison.Ordinal));
            Assert.Contains(files.Keys, k => k.EndsWith(f[7] + ".dicom", StringComparison.Ordinal));
        }
        Assert.Equal(2 * summary.Pairs, files.Keys.Count(k => k.EndsWith(".dicom", StringComparison.Ordinal)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LesionTransferOptions { SizeJitter = 1.5 }.Validate());
    }

    private static double RingMean(MammoPhantomImage image, PixelBox box)
    {
        int w = image.Spec.Columns, h = image.Spec.Rows, g = 6;
        double sum = 0;
        int n = 0;
        for (int y = Math.Max(0, (int)box.YMin - g); y < Math.Min(h, (int)box.YMax + g); y++)
            for (int x = Math.Max(0, (int)box.XMin - g); x < Math.Min(w, (int)box.XMax + g); x++)
            {
                if (x >= box.XMin && x < box.XMax && y >= box.YMin && y < box.YMax) continue;
                sum += image.Pixels[y * w + x];
                n++;
            }
        return sum / n;
    }
}
