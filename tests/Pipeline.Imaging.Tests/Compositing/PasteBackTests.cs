using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Compositing;
using Pipeline.Imaging.Preprocessing;

namespace Pipeline.Imaging.Tests.Compositing;

public class PasteBackTests
{
    private static ImageBuffer Source16(int w, int h, int seed, ushort max = 4095)
    {
        var rng = new SplitMix64((ulong)seed);
        var image = ImageBuffer.Create(w, h, 1, PixelType.UInt16);
        var p = image.Pixels<ushort>();
        for (int i = 0; i < p.Length; i++) p[i] = (ushort)rng.NextInt(max + 1);
        return image;
    }

    private static float[] Display(ImageBuffer image, LinearStoredRange range)
    {
        var p = image.Pixels<ushort>();
        var d = new float[p.Length];
        for (int i = 0; i < p.Length; i++) d[i] = (float)((p[i] - range.Low) / (range.High - range.Low));
        return d;
    }

    /// <summary>The zoom-in crop of a display image in model space: what a model that changes nothing would give back.</summary>
    private static float[] ModelCrop(ZoomInCrop zoom, float[] display, int width, int height)
    {
        var crop = new float[zoom.Resolution * zoom.Resolution];
        zoom.Extract(display, width, height, crop);
        var model = new float[crop.Length];
        ModelSpace.FromDisplay(crop, model);
        return model;
    }

    /// <summary>A 300 x 260 random 12-bit source with the box (120, 100)-(160, 130) and its zoom-in crop at ratio 4
    /// (side 160 > R = 64), unchanged: the crop a model that changes nothing gives back, and the display image.</summary>
    private sealed class UnchangedCrop : IDisposable
    {
        public readonly ImageBuffer Source;
        public readonly LinearStoredRange Range = LinearStoredRange.FullScale(4095);
        public readonly BoxF Box = new(120, 100, 160, 130);
        public readonly ZoomInCrop Zoom;
        public readonly float[] Model;
        public readonly ImageBuffer TargetDisplay;

        public UnchangedCrop(int seed)
        {
            Source = Source16(300, 260, seed);
            Zoom = ZoomInCrop.Plan(300, 260, Box, 4.0, 64);
            var display = Display(Source, Range);
            Model = ModelCrop(Zoom, display, 300, 260);
            TargetDisplay = ImageBuffer.FromSamples<float>(300, 260, 1, display);
        }

        public ImageBuffer Composite(bool keepTargetDetail = true, (int X, int Y)? detailOffset = null) =>
            detailOffset is { } o
                ? PasteBack.Composite(Source, Model, Zoom, Box, Range.ToStored, targetDisplay: TargetDisplay, detailOffset: o)
                : keepTargetDetail
                    ? PasteBack.Composite(Source, Model, Zoom, Box, Range.ToStored, targetDisplay: TargetDisplay)
                    : PasteBack.Composite(Source, Model, Zoom, Box, Range.ToStored);

        public void Dispose() { Source.Dispose(); TargetDisplay.Dispose(); }
    }

    [Fact]
    public void Crop_then_paste_back_without_change_reproduces_the_source_exactly_when_side_equals_R()
    {
        // side = ceil(4 * 16) = 64 = R: both resizes are identities, so any misalignment would show as a difference
        using var source = Source16(120, 100, 1);
        var range = LinearStoredRange.FullScale(4095);
        var box = new BoxF(50, 40, 66, 52);
        var zoom = ZoomInCrop.Plan(120, 100, box, 4.0, 64);
        Assert.Equal(64, zoom.Side);
        var model = ModelCrop(zoom, Display(source, range), 120, 100);
        using var result = PasteBack.Composite(source, model, zoom, box, range.ToStored);
        Assert.Equal(source.Pixels<ushort>().ToArray(), result.Pixels<ushort>().ToArray());
    }

    [Fact]
    public void With_the_target_detail_an_unchanged_crop_pastes_back_to_the_source_at_any_side()
    {
        // side 160 > R = 64: the crop's resampling loses the fine band; without the target's detail the box comes back
        // smoothed, with it the source comes back exactly (the detail is the band the round trip removed)
        using var c = new UnchangedCrop(2);
        Assert.Equal(160, c.Zoom.Side);
        using var kept = c.Composite();
        var expected = c.Source.Pixels<ushort>().ToArray();
        var actual = kept.Pixels<ushort>().ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1, $"pixel {i}: {actual[i]} vs source {expected[i]}");
        using var smoothed = c.Composite(keepTargetDetail: false);
        Assert.True(expected.Zip(smoothed.Pixels<ushort>().ToArray()).Count(p => Math.Abs(p.First - p.Second) > 1) > 1000);
        using var rgb = ImageBuffer.Create(300, 260, 3, PixelType.UInt16);
        Assert.Throws<ArgumentException>(() => PasteBack.Composite(rgb, new float[64 * 64 * 3], c.Zoom, c.Box, c.Range.ToStored, targetDisplay: c.TargetDisplay));
    }

    [Fact]
    public void A_donors_band_goes_into_the_box_and_the_margin_keeps_the_targets_own()
    {
        // an unchanged crop with a donor offset (a replacement's tissue donor): in the box the fine band is the donor
        // window's, in the blended margin around it the target's own, so the margin pastes back to the source
        using var c = new UnchangedCrop(3);
        using var kept = c.Composite(detailOffset: (-90, 70));
        var expected = c.Source.Pixels<ushort>().ToArray();
        var actual = kept.Pixels<ushort>().ToArray();
        int changedInBox = 0;
        for (int y = 0; y < 260; y++)
            for (int x = 0; x < 300; x++)
            {
                int i = y * 300 + x;
                bool inBox = x >= 120 && x < 160 && y >= 100 && y < 130;
                if (inBox) { if (Math.Abs(expected[i] - actual[i]) > 1) changedInBox++; }
                else Assert.True(Math.Abs(expected[i] - actual[i]) <= 1, $"({x}, {y}) outside the box: {actual[i]} vs source {expected[i]}");
            }
        Assert.True(changedInBox > 600, $"{changedInBox} of 1200 box pixels hold the donor's band");
    }

    [Fact]
    public void Outside_box_plus_margin_is_bit_identical_and_inside_the_box_is_the_generated_value()
    {
        using var source = Source16(90, 70, 2);
        var range = LinearStoredRange.FullScale(4095);
        var box = new BoxF(30.5, 20.2, 44.7, 31);
        var zoom = ZoomInCrop.Plan(90, 70, box, 3.0, 32);
        var generated = new float[32 * 32];
        Array.Fill(generated, 0.5f); // display 0.75 -> stored 3071.25 -> 3071
        var options = new CompositeOptions { Margin = 5, FeatherSigma = 2 };
        using var result = PasteBack.Composite(source, generated, zoom, box, range.ToStored, options);
        var rect = box.Cover();
        var grown = rect.Inflate(5);
        var s = source.Pixels<ushort>();
        var r = result.Pixels<ushort>();
        int changedInMargin = 0;
        for (int y = 0; y < 70; y++)
            for (int x = 0; x < 90; x++)
            {
                int i = y * 90 + x;
                if (rect.Contains(x, y)) Assert.Equal(3071, r[i]);
                else if (!grown.Contains(x, y)) Assert.Equal(s[i], r[i]);
                else if (r[i] != s[i]) changedInMargin++;
            }
        Assert.True(changedInMargin > 0);
    }

    [Fact]
    public void Margin_pixels_follow_the_feather_formula()
    {
        using var source = ImageBuffer.Create(60, 60, 1, PixelType.UInt16);
        source.Pixels<ushort>().Fill(1000);
        var range = LinearStoredRange.FullScale(4095);
        var box = new BoxF(20, 20, 30, 30);
        var zoom = ZoomInCrop.Plan(60, 60, box, 3.0, 30); // side 30 = R
        var generated = new float[30 * 30];
        Array.Fill(generated, 1f); // display 1 -> 4095
        using var result = PasteBack.Composite(source, generated, zoom, box, range.ToStored);
        var alpha = PasteBack.FeatherAlpha(box.Cover(), 5, 2.0);
        var p = result.Pixels<ushort>();
        for (int y = 15; y < 35; y++)
            for (int x = 15; x < 35; x++)
            {
                float a = alpha[(y - 15) * 20 + (x - 15)];
                Assert.Equal((ushort)MathF.Round(1000 + a * (4095 - 1000)), p[y * 60 + x]);
            }
    }

    [Fact]
    public void Values_are_clamped_to_the_stored_range_and_the_pixel_type()
    {
        using var source = Source16(40, 40, 3);
        var box = new BoxF(15, 15, 25, 25);
        var zoom = ZoomInCrop.Plan(40, 40, box, 3.0, 30);
        var generated = new float[30 * 30];
        Array.Fill(generated, 1f);
        // a window whose top maps above BitsStored 12's maximum
        var wide = new LinearStoredRange(0, 9000);
        using var clamped = PasteBack.Composite(source, generated, zoom, box, wide.ToStored, new CompositeOptions { StoredMax = 4095 });
        Assert.Equal(4095, clamped.Pixels<ushort>()[20 * 40 + 20]);
        using var bytes = ImageBuffer.Create(40, 40, 1, PixelType.UInt8);
        using var saturated = PasteBack.Composite(bytes, generated, zoom, box, wide.ToStored);
        Assert.Equal(255, saturated.Pixels<byte>()[20 * 40 + 20]);
    }

    [Fact]
    public void Monochrome1_window_inverts_and_float_sources_are_blended_without_rounding()
    {
        var range = LinearStoredRange.FromVoiWindow(2048, 4096, monochrome1: true);
        Assert.Equal((4095.0, 0.0), (range.Low, range.High));
        using var source = ImageBuffer.Create(40, 40, 1, PixelType.Float32);
        var box = new BoxF(15, 15, 25, 25);
        var zoom = ZoomInCrop.Plan(40, 40, box, 3.0, 30);
        var generated = new float[30 * 30];
        Array.Fill(generated, 0f); // display 0.5 -> 2047.5
        using var result = PasteBack.Composite(source, generated, zoom, box, range.ToStored);
        Assert.Equal(2047.5f, result.Pixels<float>()[20 * 40 + 20]);
    }

    [Fact]
    public void Crops_leaving_the_image_paste_only_inside_it()
    {
        using var source = Source16(50, 40, 4);
        var box = new BoxF(0, 30, 8, 40);
        var zoom = ZoomInCrop.Plan(50, 40, box, 4.0, 32);
        Assert.True(zoom.Crop.Left < 0 && zoom.Crop.Bottom > 40);
        var generated = new float[32 * 32];
        var changed = PasteBack.CompositeInPlace(source, generated, zoom, box, LinearStoredRange.FullScale(4095).ToStored);
        Assert.Equal(new PixelRect(0, 25, 13, 15), changed);
    }

    [Fact]
    public void Shape_and_option_errors_are_reported_up_front()
    {
        using var source = Source16(40, 40, 5);
        var box = new BoxF(15, 15, 25, 25);
        var zoom = ZoomInCrop.Plan(40, 40, box, 3.0, 30);
        var map = LinearStoredRange.FullScale(4095).AsDelegate();
        Assert.Throws<ArgumentException>(() => PasteBack.Composite(source, new float[10], zoom, box, map));
        Assert.Throws<ArgumentOutOfRangeException>(() => PasteBack.Composite(source, new float[900], zoom, box, map, new CompositeOptions { Margin = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => PasteBack.Composite(source, new float[900], zoom, box, map, new CompositeOptions { FeatherSigma = double.NaN }));
        Assert.Throws<ArgumentException>(() => PasteBack.Composite(source, new float[900], zoom, new BoxF(5, 5, 1, 1), map));
    }
}
