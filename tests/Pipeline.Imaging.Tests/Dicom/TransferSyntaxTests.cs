using System.Runtime.InteropServices;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Dicom;

namespace Pipeline.Imaging.Tests.Dicom;

/// <summary>
/// Makes one synthetic mammogram, then one file per transfer syntax with Debian's dcmtk and GDCM tools (at test time),
/// and the reference decode of each with <c>gdcmconv --raw</c> (plus pydicom where it has a decoder without plugins).
/// </summary>
public sealed class TransferSyntaxFixture : IDisposable
{
    public string Dir { get; } = TestDicom.TempDir();
    public string Source { get; }
    public string Source12 { get; }
    public ushort[] Pixels { get; }
    public ushort[] Pixels12 { get; }
    public int Rows { get; } = 256;
    public int Columns { get; } = 208;

    public TransferSyntaxFixture()
    {
        var (file, phantom) = TestDicom.Mammo(Rows, Columns);
        Pixels = phantom.Pixels;
        Source = Path.Combine(Dir, "source.dcm");
        DicomFileWriter.Save(file, Source);
        // A 12-bit copy for JPEG extended (process 4 carries at most 12 bits).
        Pixels12 = Pixels.Select(p => (ushort)(p >> 2)).ToArray();
        var f12 = TestDicom.Grayscale(Pixels12, Rows, Columns, 12);
        Source12 = Path.Combine(Dir, "source12.dcm");
        DicomFileWriter.Save(f12, Source12);
    }

    public void Dispose() { try { Directory.Delete(Dir, true); } catch (IOException) { } }
}

public class TransferSyntaxTests(TransferSyntaxFixture fx) : IClassFixture<TransferSyntaxFixture>
{
    public static TheoryData<string, string, string, bool> Conversions => new()
    {
        // name, tool + args ({in} {out}), expected TS UID, lossless
        { "implicit", "dcmconv +ti {in} {out}", "1.2.840.10008.1.2", true },
        { "big-endian", "dcmconv +tb {in} {out}", "1.2.840.10008.1.2.2", true },
        { "deflated", "dcmconv +td {in} {out}", "1.2.840.10008.1.2.1.99", true },
        { "jpeg-lossless-sv1", "dcmcjpeg +e1 {in} {out}", "1.2.840.10008.1.2.4.70", true },
        { "jpeg-lossless-sv2", "dcmcjpeg +el +sv 2 {in} {out}", "1.2.840.10008.1.2.4.57", true },
        { "jpeg-ls-lossless", "dcmcjpls +el {in} {out}", "1.2.840.10008.1.2.4.80", true },
        { "jpeg-ls-near", "dcmcjpls +en +md 3 {in} {out}", "1.2.840.10008.1.2.4.81", false },
        { "rle", "dcmcrle {in} {out}", "1.2.840.10008.1.2.5", true },
        { "j2k-lossless", "gdcmconv --j2k {in} {out}", "1.2.840.10008.1.2.4.90", true },
        { "j2k-lossy", "gdcmconv --j2k --lossy -q 80 {in} {out}", "1.2.840.10008.1.2.4.91", false },
        { "gdcm-jpeg-lossless", "gdcmconv --jpeg {in} {out}", "1.2.840.10008.1.2.4.70", true },
        { "gdcm-jpegls", "gdcmconv --jpegls {in} {out}", "1.2.840.10008.1.2.4.80", true },
        { "gdcm-rle", "gdcmconv --rle {in} {out}", "1.2.840.10008.1.2.5", true },
        { "jpeg-extended-12bit", "dcmcjpeg +ee {in12} {out}", "1.2.840.10008.1.2.4.51", false },
    };

    [Theory]
    [MemberData(nameof(Conversions))]
    public void DecodedPixelsEqualGdcmsDecodeAndLosslessEqualsTheOriginal(string name, string command, string tsUid, bool lossless)
    {
        var output = Path.Combine(fx.Dir, name + ".dcm");
        var parts = command.Split(' ').Select(p => p.Replace("{in12}", fx.Source12).Replace("{in}", fx.Source).Replace("{out}", output)).ToArray();
        TestDicom.RunOk(parts[0], parts[1..]);
        bool twelve = command.Contains("{in12}");

        using var image = DicomImage.Open(output);
        Assert.Equal(tsUid, image.File.TransferSyntax.Uid);
        Assert.Equal(PixelType.UInt16, image.Stored.PixelType);
        var decoded = image.Stored.Pixels<ushort>().ToArray();

        // Reference: GDCM's own decompression to Explicit VR Little Endian, read through the managed native path.
        var raw = Path.Combine(fx.Dir, name + ".raw.dcm");
        TestDicom.RunOk("gdcmconv", "--raw", output, raw);
        using var reference = DicomImage.Open(raw);
        Assert.Equal(reference.Stored.Pixels<ushort>().ToArray(), decoded);

        var original = twelve ? fx.Pixels12 : fx.Pixels;
        if (lossless) Assert.Equal(original, decoded);
        else
        {
            // lossy, but still the same picture: mean absolute error under 1% of the stored range
            double mae = original.Zip(decoded, (a, b) => (double)Math.Abs(a - b)).Average();
            Assert.InRange(mae, 0, (twelve ? 4096 : 16384) * 0.01);
        }
    }

    [Theory]
    [InlineData("dcmconv +ti {in} {out}")]
    [InlineData("dcmconv +tb {in} {out}")]
    [InlineData("dcmconv +td {in} {out}")]
    [InlineData("dcmcrle {in} {out}")]
    public void DecodedPixelsEqualPydicom(string command)
    {
        var output = Path.Combine(fx.Dir, "py-" + Guid.NewGuid().ToString("N")[..6] + ".dcm");
        var parts = command.Split(' ').Select(p => p.Replace("{in}", fx.Source).Replace("{out}", output)).ToArray();
        TestDicom.RunOk(parts[0], parts[1..]);
        var rawOut = output + ".u16";
        TestDicom.RunOk("/usr/bin/python3", "-c",
            "import sys, pydicom; a = pydicom.dcmread(sys.argv[1]).pixel_array; open(sys.argv[2], 'wb').write(a.astype('<u2').tobytes())", output, rawOut);
        var py = MemoryMarshal.Cast<byte, ushort>(File.ReadAllBytes(rawOut)).ToArray();
        using var image = DicomImage.Open(output);
        Assert.Equal(py, image.Stored.Pixels<ushort>().ToArray());
    }

    [Fact]
    public void JpegBaselineGrayAndYbrColourDecodeLikeGdcmAndLibjpeg()
    {
        // 8-bit gray and RGB JPEGs made by PIL, wrapped by img2dcm (JPEG Baseline, colour as YBR_FULL_422).
        var gray = Path.Combine(fx.Dir, "gray.jpg"); var rgb = Path.Combine(fx.Dir, "rgb.jpg");
        var grayRef = gray + ".u8"; var rgbRef = rgb + ".u8";
        TestDicom.RunOk("/usr/bin/python3", "-c", string.Join('\n',
            "import sys, numpy as np",
            "from PIL import Image",
            "y, x = np.mgrid[0:96, 0:128]",
            "g = ((x * 2 + y) % 256).astype(np.uint8)",
            "Image.fromarray(g).save(sys.argv[1], quality=85)",
            "c = np.stack([g, (255 - g), ((x * 5) % 256).astype(np.uint8)], -1)",
            "Image.fromarray(c, 'RGB').save(sys.argv[2], quality=85)",
            "open(sys.argv[3], 'wb').write(np.asarray(Image.open(sys.argv[1])).tobytes())",
            "open(sys.argv[4], 'wb').write(np.asarray(Image.open(sys.argv[2]).convert('RGB')).tobytes())"), gray, rgb, grayRef, rgbRef);
        foreach (var (jpg, refPath, channels) in new[] { (gray, grayRef, 1), (rgb, rgbRef, 3) })
        {
            var dcm = jpg + ".dcm";
            TestDicom.RunOk("img2dcm", jpg, dcm);
            using var image = DicomImage.Open(dcm);
            Assert.Equal("1.2.840.10008.1.2.4.50", image.File.TransferSyntax.Uid);
            Assert.Equal(channels, image.Stored.Channels);
            var ours = image.Stored.Pixels<byte>().ToArray();
            var libjpeg = File.ReadAllBytes(refPath);
            // Gray: the same IJG decoder, exact. Colour: YCbCr->RGB by PS3.3 C.7.6.3.1.2 in float vs libjpeg's fixed point.
            int maxDiff = ours.Zip(libjpeg, (a, b) => Math.Abs(a - b)).Max();
            Assert.InRange(maxDiff, 0, channels == 1 ? 0 : 2);
        }
    }

    [Fact]
    public void MonochromeOneSyntheticImageRendersLikeItsMonochromeTwoTwin()
    {
        var (m2, _) = TestDicom.Mammo(128, 104, monochrome1: false);
        var (m1, _) = TestDicom.Mammo(128, 104, monochrome1: true);
        using var i2 = DicomImage.Read(DicomFileWriter.ToBytes(m2), "m2");
        using var i1 = DicomImage.Read(DicomFileWriter.ToBytes(m1), "m1");
        Assert.True(i1.Attributes.IsMonochrome1);
        using var d2 = DicomRenderer.Render(i2);
        using var d1 = DicomRenderer.Render(i1);
        var a = d2.Pixels<float>(); var b = d1.Pixels<float>();
        // stored' = max - stored and C' = max - C: LINEAR maps x to 1 - y(x') except within half a unit of the window edges.
        int differ = 0;
        for (int i = 0; i < a.Length; i++) if (Math.Abs(a[i] - b[i]) > 1.0 / 1000) differ++;
        Assert.True(differ < a.Length / 500, $"{differ} of {a.Length} pixels differ");
    }
}
