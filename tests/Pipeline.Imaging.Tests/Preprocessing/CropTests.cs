using Pipeline.Imaging.Preprocessing;

namespace Pipeline.Imaging.Tests.Preprocessing;

public class CropTests
{
    [Fact]
    public void Zoom_in_crop_follows_the_spec_formulas()
    {
        var zoom = ZoomInCrop.Plan(100, 80, new BoxF(40, 30, 52, 41), 3.0, 64);
        // side = max(8, ceil(3 * 12)) = 36; cx = 46, cy = 35.5; left = floor(46 - 18) = 28; top = floor(17.5) = 17
        Assert.Equal(new PixelRect(28, 17, 36, 36), zoom.Crop);
        // s = 64/36; [floor(12 s), floor(13 s), ceil(24 s), ceil(24 s)) = [21, 23, 43, 43)
        Assert.Equal(PixelRect.FromCorners(21, 23, 43, 43), zoom.ModelBox);
        Assert.Equal(ResampleMode.Bilinear, zoom.Mode);
        Assert.Equal(8, ZoomInCrop.Plan(100, 80, new BoxF(10, 10, 11, 11), 3, 64).Side);
    }

    [Fact]
    public void Zoom_in_crop_pads_with_zero_outside_the_image()
    {
        var img = new float[20 * 10];
        Array.Fill(img, 1f);
        var zoom = ZoomInCrop.Plan(20, 10, new BoxF(0, 0, 4, 4), 4.0, 16); // crop [-6,-6) .. [10,10)
        var crop = new float[16 * 16];
        zoom.Extract(img, 20, 10, crop);
        Assert.Equal(0f, crop[0]);
        Assert.Equal(1f, crop[15 * 16 + 15]);
    }

    [Theory]
    [InlineData(2.0)]   // side 20 < R: bilinear
    [InlineData(7.0)]   // side 70 > R: exact area
    public void Interleaved_channels_crop_like_each_channel_alone(double ratio)
    {
        int w = 40, h = 30;
        var rgb = new float[w * h * 3];
        var rng = new SplitMix64(8);
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (float)rng.NextDouble();
        var zoom = ZoomInCrop.Plan(w, h, new BoxF(25, 2, 35, 12), ratio, 32);
        var all = new float[32 * 32 * 3];
        zoom.Extract(rgb, w, h, 3, all);
        for (int c = 0; c < 3; c++)
        {
            var plane = new float[w * h];
            for (int i = 0; i < plane.Length; i++) plane[i] = rgb[i * 3 + c];
            var one = new float[32 * 32];
            zoom.Extract(plane, w, h, one);
            for (int i = 0; i < one.Length; i++) Assert.True(Math.Abs(one[i] - all[i * 3 + c]) < 1e-6f, $"channel {c} pixel {i}: {one[i]} vs {all[i * 3 + c]}"); // dot vs scalar summation order
        }
    }

    [Fact]
    public void Reference_crop_clips_pads_centred_and_reports_support()
    {
        var r = ReferenceCrop.Plan(50, 40, new BoxF(0, 10, 10, 30), 1.2, 24);
        // w' = 12, h' = 24 about (5, 20): [-1, 8, 11, 32) clipped to [0, 8, 11, 32) -> 11 x 24, side 24, padLeft 6
        Assert.Equal(PixelRect.FromCorners(0, 8, 11, 32), r.Content);
        Assert.Equal((24, 6, 0), (r.Side, r.PadLeft, r.PadTop));
        var support = r.SupportMask();
        Assert.Equal(0, support[5]);
        Assert.Equal(1, support[6]);
        Assert.Equal(1, support[16]);
        Assert.Equal(0, support[17]);
        var img = new float[50 * 40];
        Array.Fill(img, 1f);
        var crop = new float[24 * 24];
        r.Extract(img, 50, 40, crop);
        Assert.Equal(0f, crop[5]);
        Assert.Equal(1f, crop[6]);
    }

    [Fact]
    public void Invalid_boxes_and_ratios_are_refused_with_the_box_in_the_message()
    {
        var e = Assert.Throws<ArgumentException>(() => ZoomInCrop.Plan(10, 10, new BoxF(5, 5, 4, 6), 3, 64));
        Assert.Contains("[5, 5, 4, 6)", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ZoomInCrop.Plan(10, 10, new BoxF(1, 1, 4, 6), double.NaN, 64));
        Assert.Throws<ArgumentException>(() => ReferenceCrop.Plan(10, 10, new BoxF(20, 20, 30, 30), 1.2, 64));
    }

    [Fact]
    public void Box_masks_clip_to_the_image_and_erode_inwards()
    {
        var mask = new float[10 * 8];
        BoxMask.Fill(mask, 10, 8, new PixelRect(-2, 6, 5, 5)); // x [-2, 3), y [6, 11) -> [0, 3) x [6, 8)
        Assert.Equal(6, mask.Count(v => v == 1f));
        Assert.Equal(1f, mask[7 * 10 + 2]);
        var eroded = BoxMask.Eroded(10, 8, PixelRect.FromCorners(2, 2, 8, 6), 3);
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 10; x++)
                Assert.Equal(x >= 3 && x < 7 && y >= 3 && y < 5 ? 1 : 0, eroded[y * 10 + x]);
        // a box touching the image border is not eroded from the border (outside counts as set)
        var edge = BoxMask.Eroded(10, 8, PixelRect.FromCorners(0, 0, 4, 8), 3);
        Assert.Equal(1, edge[0]);
        Assert.Equal(0, edge[3]);
    }

    [Fact]
    public void Model_space_round_trip_clamps_and_context_zeroes_the_box()
    {
        float[] display = [0f, 0.25f, 1f];
        var model = new float[3];
        ModelSpace.FromDisplay(display, model);
        Assert.Equal([-1f, -0.5f, 1f], model);
        var back = new float[3];
        ModelSpace.ToDisplay([-2f, 0f, 3f], back);
        Assert.Equal([0f, 0.5f, 1f], back);
        var ctx = new float[3];
        ModelSpace.MaskedContext(model, [0f, 1f, 0f], ctx);
        Assert.Equal([-1f, 0f, 1f], ctx);
    }
}
