using Pipeline.Driving.Camera;
using Pipeline.Driving.Compositing;
using Pipeline.Metrics.Pixel;

namespace Pipeline.Driving.Tests;

/// <summary>The composer's full-resolution camera detail: the detail measure on the luminance of the window around the
/// box equals the measure on the whole images; a box replaced by a flat patch scores well below 0, the untouched image 0.</summary>
public sealed class CameraDetailTests
{
    private static byte[] Textured(int w, int h, int seed)
    {
        var rng = new Random(seed);
        var rgb = new byte[w * h * 3];
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)rng.Next(40, 220);
        return rgb;
    }

    [Fact]
    public void Equals_the_detail_measure_on_the_whole_luminance_images()
    {
        int w = 120, h = 90;
        var source = Textured(w, h, 1);
        var output = (byte[])source.Clone();
        for (int y = 30; y < 60; y++)
            for (int x = 40; x < 80; x++)
                for (int c = 0; c < 3; c++) output[(y * w + x) * 3 + c] = (byte)((output[(y * w + x) * 3 + c] + 128) / 2);
        var box = new Box2(39.6, 29.2, 79.5, 59.9);
        var m = CameraDetail.Measure(source, output, w, h, box);
        float[] Lum(byte[] rgb) => Enumerable.Range(0, w * h).Select(i => (float)(0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2])).ToArray();
        var expected = DetailMeasure.Compute(Lum(output), Lum(source), w, h, new SeamBox(39, 29, 41, 31))!.Value;
        Assert.Equal(expected, m[CameraDetail.Key], 1e-9);
        Assert.True(m[CameraDetail.Key] < -0.5, $"halved contrast: {m[CameraDetail.Key]}");
    }

    [Fact]
    public void Untouched_is_zero_and_a_flat_box_is_far_below()
    {
        int w = 64, h = 48;
        var source = Textured(w, h, 2);
        Assert.Equal(0.0, CameraDetail.Measure(source, source, w, h, new Box2(10, 10, 30, 30))[CameraDetail.Key]);
        var flat = (byte[])source.Clone();
        for (int y = 10; y < 30; y++)
            for (int x = 10; x < 30; x++)
                for (int c = 0; c < 3; c++) flat[(y * w + x) * 3 + c] = 100;
        double d = CameraDetail.Measure(source, flat, w, h, new Box2(10, 10, 30, 30))[CameraDetail.Key];
        Assert.True(d < -1, $"flat box: {d}");   // the residual of the texture around it still reaches the box's border
    }

    [Fact]
    public void A_box_outside_the_image_gives_no_value()
    {
        var source = Textured(16, 16, 3);
        Assert.Empty(CameraDetail.Measure(source, source, 16, 16, new Box2(20, 20, 30, 30)));
    }
}
