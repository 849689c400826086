using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;
using Pipeline.Imaging.Tests.Buffers;

namespace Pipeline.Imaging.Tests.Codecs;

public class JpegCodecTests
{
    public static IEnumerable<object[]> Files() =>
        Directory.GetFiles(Npy.DataPath("jpeg"), "*.jpg").Select(p => new object[] { Path.GetFileNameWithoutExtension(p) }).OrderBy(o => (string)o[0]);

    /// <summary>
    /// PIL decodes through the same libjpeg-turbo (Debian libjpeg62-turbo 2.1) with the same defaults (islow IDCT, fancy
    /// upsampling), so the expected tolerance is zero; a different libjpeg build could differ by 1 level (IDCT rounding).
    /// </summary>
    [Theory]
    [MemberData(nameof(Files))]
    public void Decode_equals_PIL_decode(string name)
    {
        var expected = Npy.Load("jpeg", name + ".npy");
        using var image = JpegCodec.Decode(File.ReadAllBytes(Npy.DataPath("jpeg", name + ".jpg")), name + ".jpg");
        int channels = expected.Shape.Length == 3 ? expected.Shape[2] : 1;
        Assert.Equal((expected.Shape[1], expected.Shape[0], channels), (image.Width, image.Height, image.Channels));
        var e = expected.Bytes();
        var a = image.Pixels<byte>();
        int worst = 0;
        for (int i = 0; i < e.Length; i++) worst = Math.Max(worst, Math.Abs(e[i] - a[i]));
        Assert.Equal(0, worst);
    }

    [Theory]
    [InlineData(1, JpegSubsampling.Samp420, false)]
    [InlineData(3, JpegSubsampling.Samp444, false)]
    [InlineData(3, JpegSubsampling.Samp420, true)]
    [InlineData(4, JpegSubsampling.Samp422, false)]
    public void Encode_then_decode_stays_close_to_the_source(int channels, JpegSubsampling subsampling, bool progressive)
    {
        var source = Npy.Load("jpeg", channels == 1 ? "source_gray.npy" : "source_rgb.npy");
        int h = source.Shape[0], w = source.Shape[1];
        using var image = ImageBuffer.Create(w, h, channels, PixelType.UInt8);
        var src = source.Bytes();
        var px = image.Pixels<byte>();
        for (int i = 0; i < w * h; i++)
            for (int c = 0; c < channels; c++)
                px[i * channels + c] = c < 3 ? src[i * Math.Min(channels, 3) + Math.Min(c, 2)] : (byte)255;
        var bytes = JpegCodec.Encode(image, new JpegEncodeOptions { Quality = 95, Subsampling = subsampling, Progressive = progressive });
        Assert.True(JpegCodec.IsJpeg(bytes));
        using var back = JpegCodec.Decode(bytes, "roundtrip.jpg");
        Assert.Equal(channels == 1 ? 1 : 3, back.Channels);
        double sum = 0;
        var b = back.Pixels<byte>();
        for (int i = 0; i < w * h; i++)
            for (int c = 0; c < back.Channels; c++)
                sum += Math.Abs(b[i * back.Channels + c] - px[i * channels + c]);
        double mae = sum / (w * h * back.Channels);
        // the source carries per-channel noise (sigma 12), which chroma subsampling averages away
        double bound = channels == 1 || subsampling == JpegSubsampling.Samp444 ? 4.0 : 10.0;
        Assert.True(mae < bound, $"mean absolute error {mae} after a quality-95 round trip");
    }

    [Fact]
    public void Truncated_file_is_an_error_by_default_and_decodable_when_warnings_are_allowed()
    {
        var bytes = File.ReadAllBytes(Npy.DataPath("jpeg", "pil_rgb_444_q95.jpg"));
        var cut = bytes[..(bytes.Length * 2 / 3)];
        var e = Assert.Throws<ImageFormatException>(() => JpegCodec.Decode(cut, "cut.jpg"));
        Assert.Contains("cut.jpg", e.Message);
        using var patched = JpegCodec.Decode(cut, "cut.jpg", new JpegDecodeOptions { StopOnWarning = false });
        Assert.Equal(61, patched.Width);
    }

    [Fact]
    public void Refuses_16_bit_input_and_bad_quality()
    {
        using var wide = ImageBuffer.Create(4, 4, 1, PixelType.UInt16);
        Assert.Throws<ArgumentException>(() => JpegCodec.Encode(wide));
        using var ok = ImageBuffer.Create(4, 4, 1, PixelType.UInt8);
        Assert.Throws<ArgumentOutOfRangeException>(() => JpegCodec.Encode(ok, new JpegEncodeOptions { Quality = 0 }));
    }
}
