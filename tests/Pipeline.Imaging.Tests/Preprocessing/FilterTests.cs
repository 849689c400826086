using Pipeline.Imaging.Compositing;
using Pipeline.Imaging.Preprocessing;
using Pipeline.Imaging.Tests.Buffers;

namespace Pipeline.Imaging.Tests.Preprocessing;

/// <summary>Sobel, erosion, foreground mask, HF map, feather, target texture, boundary match and tissue donor against data/filters/make_vectors.py (scipy.ndimage).</summary>
public class FilterTests
{
    [Fact]
    public void Target_tissue_matches_the_numpy_reference_and_gives_the_target_back_for_its_own_fill()
    {
        var original = Npy.Load("filters", "texture_original.npy").Floats();
        var sample = Npy.Load("filters", "texture_sample.npy").Floats();
        var mask = Npy.Load("filters", "texture_mask.npy").Floats();
        ResampleTests.AssertClose(Npy.Load("filters", "texture_fill.npy").Floats(), TargetTexture.Fill(sample, mask, 24, 6.0), 1e-5f, "fill");
        Assert.Equal(Npy.Load("filters", "texture_taper.npy").Floats(), TargetTexture.EdgeTaper(mask, 24));
        ResampleTests.AssertClose(Npy.Load("filters", "texture_kept.npy").Floats(), TargetTexture.Keep(sample, original, mask, 24, 6.0), 1e-5f, "kept");
        // a model that generated only a flat background in the box (no lesion) gives the target itself there
        var flat = sample.Select((v, i) => mask[i] != 0 ? 0.3f : v).ToArray();
        var kept = TargetTexture.Keep(flat, original, mask, 24, 6.0);
        for (int i = 0; i < kept.Length; i++)
            Assert.True(Math.Abs(kept[i] - (mask[i] != 0 ? original[i] : sample[i])) < 1e-5f, $"sample {i}: {kept[i]}");
        Assert.Throws<ArgumentException>(() => TargetTexture.Keep(sample, original, mask, 23, 6.0));
    }

    [Theory]
    [InlineData("inner", 6, 5, 11, 13)]
    [InlineData("edge", 0, 14, 9, 10)]
    public void Boundary_match_matches_the_sparse_direct_solve(string name, int left, int top, int width, int height)
    {
        var original = Npy.Load("filters", "boundary_original.npy").Floats();
        var sample = Npy.Load("filters", "boundary_sample.npy").Floats();
        ResampleTests.AssertClose(Npy.Load("filters", $"boundary_{name}.npy").Floats(), BoundaryMatch.Apply(sample, original, 24, left, top, width, height), 1e-5f, name);
    }

    [Fact]
    public void Boundary_match_removes_an_offset_and_a_ramp_and_keeps_the_samples_own_structure()
    {
        var original = Npy.Load("filters", "boundary_original.npy").Floats();
        // the original with a constant offset and a linear ramp inside the box: what is harmonic is removed exactly
        var shifted = original.Select((v, i) => v + 0.2f - 0.01f * (i % 24) + 0.005f * (i / 24)).ToArray();
        var matched = BoundaryMatch.Apply(shifted, original, 24, 6, 5, 11, 13);
        for (int i = 0; i < matched.Length; i++) Assert.True(Math.Abs(matched[i] - original[i]) < 1e-5f, $"sample {i}: {matched[i]} vs {original[i]}");
        // a bright spot in the middle of the box is kept (its gradients are the sample's)
        var spot = (float[])original.Clone();
        spot[11 * 24 + 11] += 0.5f;
        var kept = BoundaryMatch.Apply(spot, original, 24, 6, 5, 11, 13);
        Assert.True(Math.Abs(kept[11 * 24 + 11] - spot[11 * 24 + 11]) < 1e-5f);
        Assert.Throws<ArgumentOutOfRangeException>(() => BoundaryMatch.Apply(spot, original, 24, 20, 5, 11, 13));
        Assert.Throws<ArgumentException>(() => BoundaryMatch.Apply(spot, original, 23, 6, 5, 11, 13));
    }

    [Fact]
    public void Tissue_donor_matches_the_brute_force_search_and_finds_the_copied_surroundings()
    {
        var image = Npy.Load("filters", "donor_image.npy");
        int h = image.Shape[0], w = image.Shape[1];
        var pixels = image.Floats();
        var expected = Npy.Load("filters", "donor_expected.npy").Doubles();
        var donor = TissueDonor.Find(pixels, w, h, new PixelRect(40, 30, 12, 10), 5);
        Assert.NotNull(donor);
        // the window the generator copied from the box's surroundings (brighter and with less contrast: the score ignores
        // the first and weighs the second), not the flat window the unnormalised score preferred
        Assert.Equal((-29, 23), (donor.Value.OffsetX, donor.Value.OffsetY));
        Assert.Equal(((int)expected[0], (int)expected[1]), (donor.Value.OffsetX, donor.Value.OffsetY));
        Assert.True(Math.Abs(donor.Value.Score - expected[2]) < 1e-12, $"score {donor.Value.Score} vs {expected[2]}");
        var rows = Npy.Load("filters", "donor_ring_scores.npy").Doubles();
        for (int i = 0; i < rows.Length / 4; i++)
        {
            int dx = (int)rows[4 * i], dy = (int)rows[4 * i + 1], ring = (int)rows[4 * i + 2];
            var box = i < 4 ? new PixelRect(40, 30, 12, 10) : new PixelRect(0, 0, 12, 10);
            double score = TissueDonor.RingScore(pixels, w, h, box, ring, dx, dy);
            Assert.True(Math.Abs(score - rows[4 * i + 3]) < 1e-9 * Math.Max(1, rows[4 * i + 3]), $"ring score at ({dx}, {dy}), ring {ring}: {score} vs {rows[4 * i + 3]}");
        }
        // a box too large for its image has no admissible donor
        Assert.Null(TissueDonor.Find(pixels, w, h, new PixelRect(10, 10, 60, 50), 5));
    }

    [Fact]
    public void Tissue_donor_never_takes_tissue_from_a_region_to_avoid()
    {
        // the image's other annotated findings: the window the search prefers (the copied surroundings, offset (-29, 23))
        // marked as a finding must not be taken, and the next best admissible window is
        var image = Npy.Load("filters", "donor_image.npy");
        int h = image.Shape[0], w = image.Shape[1];
        var pixels = image.Floats();
        var box = new PixelRect(40, 30, 12, 10);
        var free = TissueDonor.Find(pixels, w, h, box, 5)!.Value;
        var lesion = new PixelRect(box.Left + free.OffsetX + 3, box.Top + free.OffsetY + 2, 6, 5);
        var avoided = TissueDonor.Find(pixels, w, h, box, 5, avoid: [lesion])!.Value;
        Assert.NotEqual((free.OffsetX, free.OffsetY), (avoided.OffsetX, avoided.OffsetY));
        var zone = new PixelRect(box.Left - 5 + avoided.OffsetX, box.Top - 5 + avoided.OffsetY, box.Width + 10, box.Height + 10);
        Assert.False(zone.Left < lesion.Right && lesion.Left < zone.Right && zone.Top < lesion.Bottom && lesion.Top < zone.Bottom,
            $"donor zone {zone} touches the finding {lesion}");
        Assert.True(avoided.Score >= free.Score, $"{avoided.Score} < {free.Score}");
        // every admissible window that stays clear of the finding scores at least as high (brute force over the offsets)
        int ring = TissueDonor.RingWidth(box), reach = (int)Math.Floor(2.5 * 12);
        for (int dy = -reach; dy <= reach; dy++)
            for (int dx = -reach; dx <= reach; dx++)
            {
                int grow = Math.Max(ring, 5);
                var shifted = new PixelRect(box.Left - grow + dx, box.Top - grow + dy, box.Width + 2 * grow, box.Height + 2 * grow);
                var z = new PixelRect(box.Left - 5 + dx, box.Top - 5 + dy, box.Width + 10, box.Height + 10);
                var keepOut = box.Inflate(5);
                if (shifted.Left < 0 || shifted.Top < 0 || shifted.Right > w || shifted.Bottom > h) continue;
                if (shifted.Left < keepOut.Right && keepOut.Left < shifted.Right && shifted.Top < keepOut.Bottom && keepOut.Top < shifted.Bottom) continue;
                if (z.Left < lesion.Right && lesion.Left < z.Right && z.Top < lesion.Bottom && lesion.Top < z.Bottom) continue;
                double score = TissueDonor.RingScore(pixels, w, h, box, ring, dx, dy);
                Assert.True(score >= avoided.Score - 1e-12, $"offset ({dx}, {dy}) scores {score} < the chosen {avoided.Score}");
            }
        // a region far from every candidate changes nothing; an empty one neither
        Assert.Equal(free, TissueDonor.Find(pixels, w, h, box, 5, avoid: [new PixelRect(-50, -50, 5, 5), default]));
    }

    [Fact]
    public void Tissue_donor_on_the_skin_line_carries_the_same_edge_and_brings_no_air_into_the_tissue()
    {
        // a breast edge (skin line, fall-off of the thinning tissue, air 0 outside) running through the box: the donor is a
        // shift along the skin line; the numpy brute force (make_vectors.py) applies the same air rule
        var image = Npy.Load("filters", "skin_image.npy");
        int h = image.Shape[0], w = image.Shape[1];
        var pixels = image.Floats();
        var air = Npy.Load("filters", "skin_air.npy").Bytes().Select(b => b != 0).ToArray();
        var expected = Npy.Load("filters", "skin_expected.npy").Doubles();
        var box = new PixelRect(80, 50, 16, 14);
        Assert.Contains(air.Where((a, i) => box.Contains(i % w, i / w)), a => a);   // the box straddles the edge
        var donor = TissueDonor.Find(pixels, w, h, box, 5, air)!.Value;
        Assert.Equal(((int)expected[0], (int)expected[1]), (donor.OffsetX, donor.OffsetY));
        Assert.True(Math.Abs(donor.Score - expected[2]) < 1e-12, $"score {donor.Score} vs {expected[2]}");
        Assert.Equal((11, 32), (donor.OffsetX, donor.OffsetY)); // 0.35 px across per px down: the skin line's slope
        // inside the box (grown by the margin) the donor is air only where the target is
        for (int y = box.Top - 5; y < box.Bottom + 5; y++)
            for (int x = box.Left - 5; x < box.Right + 5; x++)
                Assert.False(air[(y + donor.OffsetY) * w + x + donor.OffsetX] && !air[y * w + x], $"donor air at ({x}, {y})");
        // the air rule is what keeps a donor from putting the skin line into the tissue: a mask that calls the whole box
        // region tissue rejects every donor whose window holds air
        var noAirHere = (bool[])air.Clone();
        for (int y = box.Top - 5; y < box.Bottom + 5; y++)
            for (int x = box.Left - 5; x < box.Right + 5; x++) noAirHere[y * w + x] = false;
        var inside = TissueDonor.Find(pixels, w, h, box, 5, noAirHere)!.Value;
        for (int y = box.Top - 5; y < box.Bottom + 5; y++)
            for (int x = box.Left - 5; x < box.Right + 5; x++) Assert.False(air[(y + inside.OffsetY) * w + x + inside.OffsetX]);

        // the output keeps the target's air where it has air, the composite elsewhere
        var output = Enumerable.Repeat(0.7f, pixels.Length).ToArray();
        TissueDonor.RestoreAir<float>(output, pixels, air, w, h, box.Inflate(5));
        for (int i = 0; i < output.Length; i++)
        {
            int x = i % w, y = i / w;
            bool restored = air[i] && box.Inflate(5).Contains(x, y);
            Assert.Equal(restored ? pixels[i] : 0.7f, output[i]);
        }
    }

    [Theory]
    [InlineData(37, 29, 9, 6)]
    [InlineData(130, 70, 41, 23)]   // SIMD lanes in both passes, non-square padding (256 x 128)
    [InlineData(3, 2, 2, 1)]        // rows shorter than a SIMD vector
    [InlineData(1, 1, 1, 1)]
    public void Correlation_by_fft_equals_the_direct_sum(int w, int h, int kw, int kh)
    {
        var rng = new Random(5);
        var a = Enumerable.Range(0, w * h).Select(_ => rng.NextDouble()).ToArray();
        var k = Enumerable.Range(0, kw * kh).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var c = Correlation2D.Valid(a, w, h, k, kw, kh);
        Assert.Equal((w - kw + 1) * (h - kh + 1), c.Length);
        for (int v = 0; v <= h - kh; v++)
            for (int u = 0; u <= w - kw; u++)
            {
                double direct = 0;
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++) direct += k[i * kw + j] * a[(v + i) * w + u + j];
                Assert.True(Math.Abs(direct - c[v * (w - kw + 1) + u]) < 1e-12, $"({u}, {v}): {c[v * (w - kw + 1) + u]} vs {direct}");
            }
        Assert.Throws<ArgumentException>(() => Correlation2D.Valid(a, w, h, k, w + 1, 1));
    }

    [Theory]
    [InlineData("sobel")]
    [InlineData("sobel_col")]
    public void Sobel_matches_scipy_ndimage_sobel_with_nearest_borders(string name)
    {
        var input = Npy.Load("filters", name + "_input.npy");
        int h = input.Shape[0], w = input.Shape[1];
        var gx = new float[w * h];
        var gy = new float[w * h];
        Sobel.Gradients(input.Floats(), w, h, gx, gy);
        ResampleTests.AssertClose(Npy.Load("filters", name + "_gx.npy").Floats(), gx, 1e-5f, "Gx");
        ResampleTests.AssertClose(Npy.Load("filters", name + "_gy.npy").Floats(), gy, 1e-5f, "Gy");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(20)]
    public void Square_erosion_matches_scipy_binary_erosion_with_both_border_values(int size)
    {
        var input = Npy.Load("filters", "erosion_input.npy");
        int h = input.Shape[0], w = input.Shape[1];
        var output = new byte[w * h];
        BinaryMorphology.ErodeSquare(input.Bytes(), w, h, size, output);
        Assert.Equal(Npy.Load("filters", $"erosion_{size}.npy").Bytes(), output);
        BinaryMorphology.ErodeSquare(input.Bytes(), w, h, size, output, outsideIsSet: false);
        Assert.Equal(Npy.Load("filters", $"erosion_{size}_border0.npy").Bytes(), output);
    }

    [Fact]
    public void Erosion_by_a_naive_window_scan_agrees_on_random_masks()
    {
        var rng = new SplitMix64(5);
        for (int trial = 0; trial < 40; trial++)
        {
            bool outsideIsSet = trial % 2 == 0;
            int w = 1 + rng.NextInt(30), h = 1 + rng.NextInt(30), k = 1 + rng.NextInt(9);
            var mask = new byte[w * h];
            for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextDouble() < 0.8 ? (byte)1 : (byte)0;
            var fast = new byte[w * h];
            BinaryMorphology.ErodeSquare(mask, w, h, k, fast, outsideIsSet);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    bool all = true;
                    for (int dy = -(k / 2); dy <= k - k / 2 - 1; dy++)
                        for (int dx = -(k / 2); dx <= k - k / 2 - 1; dx++)
                        {
                            int xx = x + dx, yy = y + dy;
                            bool inside = xx >= 0 && yy >= 0 && xx < w && yy < h;
                            if (inside ? mask[yy * w + xx] == 0 : !outsideIsSet) all = false;
                        }
                    Assert.Equal(all ? 1 : 0, fast[y * w + x]);
                }
        }
    }

    [Fact]
    public void Breast_foreground_mask_matches_scipy_label_largest_component_and_fill_holes()
    {
        var input = Npy.Load("filters", "foreground_input.npy");
        int h = input.Shape[0], w = input.Shape[1];
        var mask = BreastForegroundMask.Compute(input.Floats(), w, h, new ForegroundMaskOptions { Threshold = 0.05f });
        Assert.Equal(Npy.Load("filters", "foreground_mask.npy").Bytes(), mask);
    }

    [Fact]
    public void Run_based_labelling_agrees_with_a_pixel_flood_fill_on_random_masks()
    {
        var rng = new SplitMix64(11);
        for (int trial = 0; trial < 40; trial++)
        {
            int w = 1 + rng.NextInt(25), h = 1 + rng.NextInt(25);
            var img = new float[w * h];
            double density = 0.3 + 0.5 * rng.NextDouble();
            for (int i = 0; i < img.Length; i++) img[i] = rng.NextDouble() < density ? 1f : 0f;
            var fast = BreastForegroundMask.Compute(img, w, h);
            Assert.Equal(NaiveForeground(img, w, h), fast);
        }
    }

    /// <summary>Plain per-pixel BFS reference: largest 8-connected component (first in raster order on ties), then holes not 4-connected to the border filled.</summary>
    private static byte[] NaiveForeground(float[] img, int w, int h)
    {
        var label = new int[w * h];
        int next = 0, best = 0, bestSize = 0;
        for (int i = 0; i < img.Length; i++)
        {
            if (img[i] <= 0.05f || label[i] != 0) continue;
            int id = ++next, size = 0;
            var queue = new Queue<int>([i]);
            label[i] = id;
            while (queue.Count > 0)
            {
                int p = queue.Dequeue(); size++;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int x = p % w + dx, y = p / w + dy;
                        if (x < 0 || y < 0 || x >= w || y >= h) continue;
                        int q = y * w + x;
                        if (img[q] > 0.05f && label[q] == 0) { label[q] = id; queue.Enqueue(q); }
                    }
            }
            if (size > bestSize) { bestSize = size; best = id; }
        }
        var mask = label.Select(l => l == best && best != 0 ? (byte)1 : (byte)0).ToArray();
        var outside = new bool[w * h];
        var border = new Queue<int>();
        for (int i = 0; i < mask.Length; i++)
        {
            int x = i % w, y = i / w;
            if ((x == 0 || y == 0 || x == w - 1 || y == h - 1) && mask[i] == 0) { outside[i] = true; border.Enqueue(i); }
        }
        while (border.Count > 0)
        {
            int p = border.Dequeue();
            foreach (var (dx, dy) in new[] { (1, 0), (-1, 0), (0, 1), (0, -1) })
            {
                int x = p % w + dx, y = p / w + dy;
                if (x < 0 || y < 0 || x >= w || y >= h) continue;
                int q = y * w + x;
                if (mask[q] == 0 && !outside[q]) { outside[q] = true; border.Enqueue(q); }
            }
        }
        for (int i = 0; i < mask.Length; i++) if (mask[i] == 0 && !outside[i]) mask[i] = 1;
        return mask;
    }

    [Theory]
    [InlineData(0.7, "0.7")]
    [InlineData(1.5, "1.5")]
    [InlineData(3.0, "3.0")]
    public void Gaussian_blur_matches_scipy_gaussian_filter_with_nearest_borders(double sigma, string file)
    {
        var input = Npy.Load("filters", "sobel_input.npy");
        int h = input.Shape[0], w = input.Shape[1];
        var output = new float[w * h];
        GaussianBlur.Apply(input.Floats(), w, h, sigma, output);
        ResampleTests.AssertClose(Npy.Load("filters", $"gaussian_{file}.npy").Floats(), output, 2e-6f, $"sigma {sigma}");
    }

    [Fact]
    public void Smoothed_foreground_mask_matches_scipy()
    {
        var input = Npy.Load("filters", "foreground_input.npy");
        int h = input.Shape[0], w = input.Shape[1];
        var mask = BreastForegroundMask.Compute(input.Floats(), w, h, new ForegroundMaskOptions { Threshold = 0.05f, SmoothingSigma = 1.5 });
        Assert.Equal(Npy.Load("filters", "foreground_mask_smoothed.npy").Bytes(), mask);
    }

    [Fact]
    public void Foreground_mask_of_an_empty_image_is_empty()
    {
        var mask = BreastForegroundMask.Compute(new float[12], 4, 3);
        Assert.All(mask, v => Assert.Equal(0, v));
    }

    [Fact]
    public void Foreground_mask_handles_a_large_single_component_without_recursion()
    {
        int w = 1500, h = 1500;
        var img = new float[w * h];
        Array.Fill(img, 0.5f);
        var mask = BreastForegroundMask.Compute(img, w, h);
        Assert.Equal(w * h, mask.Count(b => b == 1));
    }

    [Fact]
    public void HF_map_matches_the_scipy_formula()
    {
        var input = Npy.Load("filters", "hf_input.npy");
        int s = input.Shape[0];
        var hf = new float[s * s];
        HighFrequencyMap.Compute(input.Floats(), Npy.Load("filters", "hf_support.npy").Bytes(), s, hf);
        ResampleTests.AssertClose(Npy.Load("filters", "hf_output.npy").Floats(), hf, 1e-6f, "HF");
    }

    [Fact]
    public void Feather_alpha_matches_the_numpy_formula_and_is_exact_at_box_and_margin()
    {
        var box = new PixelRect(10, 5, 10, 7);
        var alpha = PasteBack.FeatherAlpha(box, 5, 2.0);
        ResampleTests.AssertClose(Npy.Load("filters", "feather_alpha.npy").Floats(), alpha, 1e-6f, "alpha");
        int w = box.Width + 10;
        for (int y = 5; y < 12; y++)
            for (int x = 5; x < 15; x++)
                Assert.Equal(1f, alpha[y * w + x]);
        Assert.True(alpha.All(a => a > 0 && a <= 1)); // every pixel of box + margin gets some weight
    }
}
