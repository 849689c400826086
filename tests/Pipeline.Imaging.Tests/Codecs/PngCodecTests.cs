using System.IO.Compression;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;
using Pipeline.Imaging.Tests.Buffers;

namespace Pipeline.Imaging.Tests.Codecs;

public class PngCodecTests
{
    public static IEnumerable<object[]> Files() =>
        Directory.GetFiles(Npy.DataPath("png"), "*.png").Select(p => new object[] { Path.GetFileNameWithoutExtension(p) }).OrderBy(o => (string)o[0]);

    [Theory]
    [MemberData(nameof(Files))]
    public void Decodes_reference_files_to_the_expected_pixels(string name)
    {
        if (name == "raw_rgb8_1x1_interlaced")
        {
            // refused with a clear error: ImageSharp 2.1.13 never finishes decoding it (see PngCodec.CheckChunks)
            var e = Assert.Throws<ImageFormatException>(() => PngCodec.Decode(File.ReadAllBytes(Npy.DataPath("png", name + ".png")), name + ".png"));
            Assert.Contains("interlaced 1x1", e.Message);
            return;
        }
        var expected = Npy.Load("png", name + ".npy");
        using var image = PngCodec.Decode(File.ReadAllBytes(Npy.DataPath("png", name + ".png")), name + ".png");
        int channels = expected.Shape.Length == 3 ? expected.Shape[2] : 1;
        Assert.Equal((expected.Shape[1], expected.Shape[0], channels), (image.Width, image.Height, image.Channels));
        if (expected.Descr == "<u2")
        {
            Assert.Equal(PixelType.UInt16, image.PixelType);
            Assert.Equal(expected.UInt16(), image.Pixels<ushort>().ToArray());
        }
        else
        {
            Assert.Equal(PixelType.UInt8, image.PixelType);
            Assert.Equal(expected.Bytes(), image.Pixels<byte>().ToArray());
        }
    }

    [Theory]
    [InlineData(1, PixelType.UInt8)]
    [InlineData(2, PixelType.UInt8)]
    [InlineData(3, PixelType.UInt8)]
    [InlineData(4, PixelType.UInt8)]
    [InlineData(1, PixelType.UInt16)]
    [InlineData(2, PixelType.UInt16)]
    [InlineData(3, PixelType.UInt16)]
    [InlineData(4, PixelType.UInt16)]
    public void Round_trips_every_writable_format_with_every_filter(int channels, PixelType type)
    {
        using var image = RandomImage(23, 17, channels, type, seed: channels * 10 + (int)type);
        foreach (var filter in Enum.GetValues<PngFilterStrategy>())
        {
            var bytes = PngCodec.Encode(image, new PngEncodeOptions { Filter = filter, CompressionLevel = CompressionLevel.Fastest });
            using var back = PngCodec.Decode(bytes, $"roundtrip-{filter}.png");
            Assert.Equal((image.Width, image.Height, image.Channels, image.PixelType), (back.Width, back.Height, back.Channels, back.PixelType));
            Assert.Equal(image.Bytes.ToArray(), back.Bytes.ToArray());
        }
    }

    [Fact]
    public void Written_files_are_read_back_by_PIL_when_python_is_available()
    {
        if (!File.Exists("/usr/bin/python3")) return;
        using var image = RandomImage(19, 11, 3, PixelType.UInt8, seed: 99);
        var dir = Directory.CreateTempSubdirectory("pngtest");
        try
        {
            var path = Path.Combine(dir.FullName, "x.png");
            File.WriteAllBytes(path, PngCodec.Encode(image));
            var psi = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3",
                ["-c", "import sys,hashlib,numpy as np; from PIL import Image; a=np.asarray(Image.open(sys.argv[1])); print(a.shape, hashlib.sha256(a.tobytes()).hexdigest())", path])
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = System.Diagnostics.Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            if (p.ExitCode != 0 && p.StandardError.ReadToEnd().Contains("No module named")) return; // PIL missing
            Assert.Equal(0, p.ExitCode);
            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(image.Bytes));
            Assert.Equal($"(11, 19, 3) {hash}", output);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void Refuses_float_buffers_with_a_clear_message()
    {
        using var f = ImageBuffer.Create(2, 2, 1, PixelType.Float32);
        var e = Assert.Throws<ArgumentException>(() => PngCodec.Encode(f));
        Assert.Contains("ToInteger", e.Message);
    }

    [Fact]
    public void Crc_mismatch_names_the_file_and_chunk()
    {
        var bytes = File.ReadAllBytes(Npy.DataPath("png", "pil_L.png"));
        bytes[20] ^= 0x01; // inside IHDR's body
        var e = Assert.Throws<ImageFormatException>(() => PngCodec.Decode(bytes, "scan-17.png"));
        Assert.Contains("scan-17.png", e.Message);
        Assert.Contains("CRC", e.Message);
        Assert.Contains("IHDR", e.Message);
    }

    [Fact]
    public void A_header_claiming_more_pixels_than_the_limit_is_refused_before_allocating()
    {
        using var image = RandomImage(40, 40, 1, PixelType.UInt8, seed: 1);
        var e = Assert.Throws<ImageFormatException>(() => PngCodec.Decode(PngCodec.Encode(image), "big.png", new ImageDecodeOptions { MaxPixels = 1000 }));
        Assert.Contains("big.png", e.Message);
        Assert.Contains("40x40", e.Message);
        Assert.Contains("limit of 1000", e.Message);
    }

    /// <summary>
    /// A decompression bomb: a valid PNG whose IHDR claims 100,000 x 100,000 pixels (10 G samples) over a tiny IDAT.
    /// It is refused from the header, naming file, claimed size and limit, without allocating pixel memory: the whole
    /// call allocates less than 1 MB (decoding would need 10 GB).
    /// </summary>
    [Fact]
    public void A_decompression_bomb_is_refused_from_its_header_without_allocating()
    {
        var bomb = PngWithHeader(100_000, 100_000);
        PngCodec.Decode(PngWithHeader(1, 1), "warm-up.png").Dispose(); // JIT and static setup out of the measurement
        // this thread's allocations only: the process-wide count includes tests running in parallel
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageFormatException>(() => PngCodec.Decode(bomb, "bomb.png"));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("bomb.png", e.Message);
        Assert.Contains("100000x100000", e.Message);
        Assert.Contains($"limit of {ImageDecodeOptions.Default.MaxPixels}", e.Message);
        Assert.True(allocated < 1 << 20, $"refusing the bomb allocated {allocated} bytes");
    }

    /// <summary>A complete PNG (signature, IHDR 8-bit gray, one IDAT holding one zlib-compressed zero row, IEND) with the given header size.</summary>
    private static byte[] PngWithHeader(int width, int height)
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth; colour type 0 (gray), compression 0, filter 0, interlace 0
        Chunk(ms, "IHDR", ihdr);
        using (var z = new MemoryStream())
        {
            using (var zlib = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zlib.Write(new byte[1 + width % 4096]);
            Chunk(ms, "IDAT", z.ToArray());
        }
        Chunk(ms, "IEND", []);
        return ms.ToArray();

        static void Chunk(Stream s, string type, byte[] body)
        {
            var head = new byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(head, body.Length);
            System.Text.Encoding.ASCII.GetBytes(type, head.AsSpan(4));
            s.Write(head);
            s.Write(body);
            var crc = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(head.AsSpan(4), body));
            s.Write(crc);
        }
    }

    /// <summary>CRC-32 of PNG chunks (ISO 3309 polynomial 0xEDB88320, PNG spec 5.5), bit by bit: the test's own reference.</summary>
    private static uint Crc32(ReadOnlySpan<byte> type, ReadOnlySpan<byte> body)
    {
        uint c = 0xFFFFFFFF;
        foreach (var span in new[] { type.ToArray(), body.ToArray() })
            foreach (var b in span)
            {
                c ^= b;
                for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            }
        return ~c;
    }

    [Fact]
    public async Task ReadAsync_and_WriteAsync_round_trip_through_a_file()
    {
        using var image = RandomImage(8, 5, 2, PixelType.UInt16, seed: 4);
        var path = Path.Combine(Path.GetTempPath(), $"png-{Guid.NewGuid():N}.png");
        try
        {
            await PngCodec.WriteAsync(path, image);
            using var back = await PngCodec.ReadAsync(path);
            Assert.Equal(image.Bytes.ToArray(), back.Bytes.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    internal static ImageBuffer RandomImage(int w, int h, int channels, PixelType type, int seed)
    {
        var rng = new Random(seed);
        var image = ImageBuffer.Create(w, h, channels, type);
        rng.NextBytes(image.Bytes);
        // smooth part so filters other than None win sometimes
        if (type == PixelType.UInt8) { var p = image.Pixels<byte>(); for (int i = 0; i < p.Length / 2; i++) p[i] = (byte)(i / 7); }
        return image;
    }
}
