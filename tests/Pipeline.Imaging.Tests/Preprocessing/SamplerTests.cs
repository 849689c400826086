using Pipeline.Imaging.Preprocessing;

namespace Pipeline.Imaging.Tests.Preprocessing;

public class SamplerTests
{
    [Fact]
    public void SplitMix64_reproduces_the_reference_sequence()
    {
        // first outputs of Vigna's splitmix64.c for seed 1234567
        var rng = new SplitMix64(1234567);
        ulong[] expected = [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821];
        foreach (var e in expected) Assert.Equal(e, rng.NextUInt64());
        // ForItem as documented (computed with the Python transcription in the SplitMix64 doc comment)
        var item = SplitMix64.ForItem(42, 7);
        Assert.Equal(0.8699839827650299, item.NextDouble(), 15);
    }

    private static byte[] Tissue(int w, int h, PixelRect region)
    {
        var m = new byte[w * h];
        for (int y = region.Top; y < region.Bottom; y++) for (int x = region.Left; x < region.Right; x++) m[y * w + x] = 1;
        return m;
    }

    [Fact]
    public void Insertion_picks_the_first_candidate_above_ninety_percent_eroded_tissue()
    {
        int w = 200, h = 150;
        var fg = Tissue(w, h, new PixelRect(0, 0, 120, 150)); // tissue touching the left, top and bottom borders
        var rng = new SplitMix64(9);
        var placement = InsertionSampler.Sample(fg, w, h, 17.5, 12, ref rng);
        Assert.Equal(20, placement.Candidates.Count);
        Assert.True(placement.Accepted);
        Assert.Equal(placement.Candidates.ToList().FindIndex(c => c.Accepted), placement.ChosenIndex);
        Assert.Equal((18, 12), (placement.Box.Width, placement.Box.Height));
        // check every score against a direct count on the eroded mask
        var eroded = new byte[w * h];
        BinaryMorphology.ErodeSquare(fg, w, h, 20, eroded);
        foreach (var c in placement.Candidates)
        {
            int set = 0;
            for (int y = c.Box.Top; y < c.Box.Bottom; y++) for (int x = c.Box.Left; x < c.Box.Right; x++) set += eroded[y * w + x];
            Assert.Equal((double)set / c.Box.Area, c.ForegroundFraction, 12);
            Assert.Equal(c.ForegroundFraction > 0.9, c.Accepted);
            Assert.True(c.Box.Left >= 0 && c.Box.Right <= w && c.Box.Top >= 0 && c.Box.Bottom <= h);
        }
    }

    [Fact]
    public void Insertion_keeps_every_candidate_box_wholly_inside_the_tissue()
    {
        // a round breast against the left border: the thesis's rule puts boxes against the image edge or near the skin
        // line; the wholly-inside rule keeps every candidate (over many seeds) with Erosion / 2 px of tissue around it
        int w = 160, h = 200;
        var fg = new byte[w * h];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) if ((x * x) / (110.0 * 110.0) + ((y - 100) * (y - 100)) / (95.0 * 95.0) <= 1) fg[y * w + x] = 1;
        int crossing = 0;
        for (ulong seed = 0; seed < 200; seed++)
        {
            var a = new SplitMix64(seed);
            foreach (var c in InsertionSampler.Sample(fg, w, h, 30, 24, ref a).Candidates)
            {
                Assert.True(c.Box.Left >= 10 && c.Box.Top >= 10 && c.Box.Right + 10 <= w && c.Box.Bottom + 10 <= h, $"seed {seed}: candidate {c.Box} is within 10 px of the image edge");
                for (int y = c.Box.Top - 10; y < c.Box.Bottom + 10; y++)
                    for (int x = c.Box.Left - 10; x < c.Box.Right + 10; x++)
                        Assert.True(fg[y * w + x] == 1, $"seed {seed}: candidate {c.Box} reaches background at ({x}, {y})");
                Assert.True(c.Accepted);
            }
            var b = new SplitMix64(seed);
            var thesis = InsertionSampler.Sample(fg, w, h, 30, 24, ref b, InsertionOptions.Thesis);
            var box = thesis.Box;
            bool near = box.Left < 10 || box.Top < 10 || box.Right + 10 > w || box.Bottom + 10 > h;
            for (int y = Math.Max(0, box.Top - 10); y < Math.Min(h, box.Bottom + 10); y++)
                for (int x = Math.Max(0, box.Left - 10); x < Math.Min(w, box.Right + 10); x++) near |= fg[y * w + x] == 0;
            if (near) crossing++;
        }
        Assert.True(crossing > 10, $"the thesis's rule alone should put boxes near the edge on this mask (else the test shows nothing): {crossing} of 200");
    }

    [Fact]
    public void Insertion_falls_back_to_the_thesis_pools_when_no_box_fits_inside()
    {
        int w = 100, h = 100;
        var fg = Tissue(w, h, new PixelRect(40, 40, 22, 22)); // a 20 x 20 box plus a 10 px margin does not fit
        var a = new SplitMix64(3);
        var b = new SplitMix64(3);
        Assert.Equal(InsertionSampler.Sample(fg, w, h, 20, 20, ref b, InsertionOptions.Thesis).Candidates,
            InsertionSampler.Sample(fg, w, h, 20, 20, ref a).Candidates);
    }

    [Fact]
    public void Insertion_is_deterministic_per_seed()
    {
        int w = 120, h = 90;
        var fg = Tissue(w, h, new PixelRect(0, 10, 80, 70));
        var a = new SplitMix64(5); var b = new SplitMix64(5); var c = new SplitMix64(6);
        var pa = InsertionSampler.Sample(fg, w, h, 10, 10, ref a);
        var pb = InsertionSampler.Sample(fg, w, h, 10, 10, ref b);
        var pc = InsertionSampler.Sample(fg, w, h, 10, 10, ref c);
        Assert.Equal(pa.Candidates, pb.Candidates);
        Assert.NotEqual(pa.Candidates, pc.Candidates);
        Assert.Equal(a.State, b.State); // the same number of draws
    }

    [Fact]
    public void Insertion_without_enough_tissue_falls_back_to_the_best_candidate()
    {
        int w = 100, h = 100;
        var fg = Tissue(w, h, new PixelRect(40, 40, 22, 22)); // erodes to a tiny core
        var rng = new SplitMix64(3);
        var placement = InsertionSampler.Sample(fg, w, h, 20, 20, ref rng);
        Assert.False(placement.Accepted);
        Assert.Equal(placement.Candidates.Max(c => c.ForegroundFraction), placement.Candidates[placement.ChosenIndex].ForegroundFraction);
        var empty = new byte[w * h];
        var rng2 = new SplitMix64(3);
        var none = InsertionSampler.Sample(empty, w, h, 20, 20, ref rng2);
        Assert.Equal(0, none.Candidates[none.ChosenIndex].ForegroundFraction);
    }

    [Fact]
    public void Insertion_rejects_a_reference_larger_than_the_target()
    {
        var rng = new SplitMix64(1);
        var e = Assert.Throws<ArgumentException>(() => InsertionSampler.Sample(new byte[100], 10, 10, 11, 4, ref rng));
        Assert.Contains("does not fit", e.Message);
    }

    [Fact]
    public void Replacement_takes_only_references_within_fifteen_percent_and_draws_among_them()
    {
        var target = new LesionRef("t", new BoxF(0, 0, 100, 50), "Mass");
        var refs = new List<LesionRef>
        {
            new("a", new BoxF(0, 0, 114, 50), "Mass"),      // +14% width: ok
            new("b", new BoxF(0, 0, 116, 50), "Mass"),      // +16%: no
            new("c", new BoxF(10, 10, 95, 52.5), "Calc"),   // -15% width, +5% height: ok (boundary)
            new("t", new BoxF(0, 0, 100, 50), "Mass"),      // same image: excluded
            new("d", new BoxF(0, 0, 100, 42), "Mass"),      // -16% height: no
        };
        var rng = new SplitMix64(77);
        var probe = new SplitMix64(77);
        int expectedIndex = (int)(probe.NextDouble() * 2);
        var placement = ReplacementSampler.Sample(target, refs, ref rng);
        Assert.NotNull(placement);
        Assert.Equal(new[] { "a", "c" }[expectedIndex], placement!.Reference.ImageId);
        Assert.Equal(target.Box, placement.TargetBox);
        var sameClass = new SplitMix64(1);
        Assert.Equal("a", ReplacementSampler.Sample(target, refs, ref sameClass, new ReplacementOptions { SameCategoryOnly = true })!.Reference.ImageId);
        var none = new SplitMix64(1);
        Assert.Null(ReplacementSampler.Sample(target, [refs[1], refs[4]], ref none));
    }

    [Fact]
    public void Reinsertion_uses_the_lesion_itself()
    {
        var lesion = new LesionRef("img", new BoxF(1, 2, 3, 4));
        var p = ReinsertionSampler.Sample(lesion);
        Assert.Equal((AugmentationTask.Reinsertion, lesion, lesion.Box), (p.Task, p.Reference, p.TargetBox));
    }
}
