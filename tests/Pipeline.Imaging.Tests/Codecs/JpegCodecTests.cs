using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;
using Pipeline.Imaging.Tests.Buffers;

namespace Pipeline.Imaging.Tests.Codecs;

public class JpegCodecTests
{
    public static IEnumerable<object[]> Files() =>
        Directory.GetFiles(Npy.DataPath("jpeg"), "*.jpg").Select(p => new object[] { Path.GetFileNameWithoutExtension(p) }).OrderBy(o => (string)o[0]);

    /// <summary>
    /// PIL decodes through libjpeg-turbo (islow IDCT, "fancy" triangular chroma upsampling); ImageSharp has its own IDCT
    /// and upsamples chroma differently, so its pixels are not PIL's. Measured against PIL on these files: gray and
    /// 4:4:4 within 1-3 levels (IDCT rounding, mean under 0.5), chroma-subsampled colour up to 18 levels at sharp colour
    /// edges with a mean of 2.4-3.3 levels (the test image is noisy colour, the worst case for upsampling). The bounds
    /// below sit just above that, so a decoder regression (a wrong colour transform or upsampling) still fails.
    /// </summary>
    [Theory]
    [MemberData(nameof(Files))]
    public void Decode_is_close_to_PIL_decode(string name)
    {
        var expected = Npy.Load("jpeg", name + ".npy");
        using var image = JpegCodec.Decode(File.ReadAllBytes(Npy.DataPath("jpeg", name + ".jpg")), name + ".jpg");
        int channels = expected.Shape.Length == 3 ? expected.Shape[2] : 1;
        Assert.Equal((expected.Shape[1], expected.Shape[0], channels), (image.Width, image.Height, image.Channels));
        var e = expected.Bytes();
        var a = image.Pixels<byte>();
        int worst = 0;
        double sum = 0;
        for (int i = 0; i < e.Length; i++)
        {
            int d = Math.Abs(e[i] - a[i]);
            worst = Math.Max(worst, d);
            sum += d;
        }
        double mean = sum / e.Length;
        bool subsampled = channels == 3 && !name.Contains("_444_");
        Assert.True(worst <= (subsampled ? 24 : 3), $"{name}: largest difference from PIL {worst} levels");
        Assert.True(mean <= (subsampled ? 4.0 : 0.5), $"{name}: mean difference from PIL {mean:0.000} levels");
    }

    [Theory]
    [InlineData(1, JpegSubsampling.Samp420)]
    [InlineData(3, JpegSubsampling.Samp444)]
    [InlineData(3, JpegSubsampling.Samp420)]
    [InlineData(4, JpegSubsampling.Samp422)]
    public void Encode_then_decode_stays_close_to_the_source(int channels, JpegSubsampling subsampling)
    {
        var source = Npy.Load("jpeg", channels == 1 ? "source_gray.npy" : "source_rgb.npy");
        int h = source.Shape[0], w = source.Shape[1];
        using var image = ImageBuffer.Create(w, h, channels, PixelType.UInt8);
        var src = source.Bytes();
        var px = image.Pixels<byte>();
        for (int i = 0; i < w * h; i++)
            for (int c = 0; c < channels; c++)
                px[i * channels + c] = c < 3 ? src[i * Math.Min(channels, 3) + Math.Min(c, 2)] : (byte)255;
        var bytes = JpegCodec.Encode(image, new JpegEncodeOptions { Quality = 95, Subsampling = subsampling });
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

    /// <summary>
    /// A JPEG whose frame header (SOF0) claims 65,535 x 65,535 pixels (4.3 G, the most a JPEG can claim) over the scan
    /// data of a 16 x 16 image. It is refused from the header, naming file, claimed size and limit, without allocating
    /// pixel memory: the whole call allocates less than 1 MB (decoding would need 4.3 GB per channel).
    /// </summary>
    [Fact]
    public void A_header_claiming_65535_by_65535_is_refused_without_allocating()
    {
        using var image = PngCodecTests.RandomImage(16, 16, 1, PixelType.UInt8, seed: 3);
        var bytes = JpegCodec.Encode(image);
        int sof = -1;
        for (int k = 2; k + 1 < bytes.Length; k++)
            if (bytes[k] == 0xFF && bytes[k + 1] is 0xC0 or 0xC1 or 0xC2) { sof = k; break; }
        Assert.True(sof > 0, "no frame header in the encoded JPEG");
        // marker (2), length (2), precision (1), height (2), width (2)
        bytes[sof + 5] = bytes[sof + 6] = bytes[sof + 7] = bytes[sof + 8] = 0xFF;
        JpegCodec.Decode(JpegCodec.Encode(image), "warm-up.jpg").Dispose(); // JIT and static setup out of the measurement
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageFormatException>(() => JpegCodec.Decode(bytes, "bomb.jpg"));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("bomb.jpg", e.Message);
        Assert.Contains("65535x65535", e.Message);
        Assert.Contains($"limit of {ImageDecodeOptions.Default.MaxPixels}", e.Message);
        Assert.True(allocated < 1 << 20, $"refusing the bomb allocated {allocated} bytes");
    }
}
