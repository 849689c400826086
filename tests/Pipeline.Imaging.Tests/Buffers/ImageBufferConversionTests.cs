using Pipeline.Imaging.Buffers;

namespace Pipeline.Imaging.Tests.Buffers;

public class ImageBufferConversionTests
{
    [Fact]
    public void ToUnitFloat32_scales_by_the_type_full_scale()
    {
        using var b = ImageBuffer.FromSamples<byte>(3, 1, 1, [0, 51, 255]);
        using var fb = b.ToUnitFloat32();
        Assert.Equal([0f, 0.2f, 1f], fb.Pixels<float>().ToArray());
        using var w = ImageBuffer.FromSamples<ushort>(2, 1, 1, [0, 65535]);
        using var fw = w.ToUnitFloat32();
        Assert.Equal([0f, 1f], fw.Pixels<float>().ToArray());
        using var f = ImageBuffer.FromSamples<float>(1, 1, 1, [3.5f]);
        using var ff = f.ToUnitFloat32();
        Assert.Equal(3.5f, ff.Pixels<float>()[0]);
    }

    [Fact]
    public void ExtractChannel_copies_one_interleaved_channel()
    {
        using var rgb = ImageBuffer.FromSamples<ushort>(2, 1, 3, [1, 2, 3, 4, 5, 6]);
        using var g = rgb.ExtractChannel(1);
        Assert.Equal((2, 1, 1, PixelType.UInt16), (g.Width, g.Height, g.Channels, g.PixelType));
        Assert.Equal([2, 5], g.Pixels<ushort>().ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => rgb.ExtractChannel(3));
    }

    [Theory]
    [InlineData(PixelType.UInt8, 1)]
    [InlineData(PixelType.UInt16, 1)]
    [InlineData(PixelType.Float32, 1)]
    [InlineData(PixelType.UInt16, 3)]
    public void WindowToFloat32_is_the_window_of_ToFloat32(PixelType type, int channels)
    {
        int w = 7, h = 5;
        var rng = new Random(3);
        var values = Enumerable.Range(0, w * h * channels).Select(_ => rng.Next(0, 256)).ToArray();
        using var image = type switch
        {
            PixelType.UInt8 => ImageBuffer.FromSamples<byte>(w, h, channels, values.Select(v => (byte)v).ToArray()),
            PixelType.UInt16 => ImageBuffer.FromSamples<ushort>(w, h, channels, values.Select(v => (ushort)(v * 250)).ToArray()),
            _ => ImageBuffer.FromSamples<float>(w, h, channels, values.Select(v => v / 7f).ToArray()),
        };
        using var all = image.ToFloat32();
        var window = image.WindowToFloat32(2, 1, 4, 3);
        Assert.Equal(4 * 3 * channels, window.Length);
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4 * channels; x++)
                Assert.Equal(all.Row<float>(1 + y)[2 * channels + x], window[y * 4 * channels + x]);
        Assert.Empty(image.WindowToFloat32(0, 0, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => image.WindowToFloat32(5, 0, 3, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => image.WindowToFloat32(0, 3, 1, 3));
    }
}
