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
}
