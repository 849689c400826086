using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using Pipeline.Imaging.Buffers;

namespace Pipeline.Imaging.Codecs;

/// <summary>How <see cref="PngCodec.Encode"/> chooses the scanline filter.</summary>
public enum PngFilterStrategy
{
    None = PngFilterType.None,
    Sub = PngFilterType.Sub,
    Up = PngFilterType.Up,
    Average = PngFilterType.Average,
    Paeth = PngFilterType.Paeth,
    /// <summary>Per row, the filter with the smallest sum of absolute signed bytes (libpng's default heuristic).</summary>
    Adaptive = 255,
}

public sealed record PngEncodeOptions
{
    public PngFilterStrategy Filter { get; init; } = PngFilterStrategy.Adaptive;
    public CompressionLevel CompressionLevel { get; init; } = CompressionLevel.Optimal;
    public static PngEncodeOptions Default { get; } = new();
}

/// <summary>
/// PNG (ISO/IEC 15948, W3C PNG 2nd edition) reader and writer on <see cref="ZLibStream"/>.
/// Reads colour types 0 (gray 1/2/4/8/16-bit), 2 (RGB 8/16), 3 (palette 1/2/4/8, expanded to RGB, or RGBA when tRNS is
/// present), 4 (gray+alpha 8/16) and 6 (RGBA 8/16), all five filters, non-interlaced and Adam7. Samples of 1/2/4-bit gray
/// are scaled to 0..255 (as PIL and libpng's expand do); 16-bit images come back as <see cref="PixelType.UInt16"/>.
/// Gray/RGB colour-key tRNS, gamma and colour-profile chunks are ignored (values are returned as stored).
/// Every chunk CRC is checked. Writes 8/16-bit gray, gray+alpha, RGB and RGBA, non-interlaced.
/// </summary>
public static class PngCodec
{
    private static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private const string Format = "PNG";

    // Adam7 passes (PNG spec 8.2): x start, y start, x step, y step.
    private static readonly (int X, int Y, int Dx, int Dy)[] Adam7 =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    public static bool IsPng(ReadOnlySpan<byte> data) => data.Length >= 8 && data[..8].SequenceEqual(Signature);

    public static async Task<ImageBuffer> ReadAsync(string path, ImageDecodeOptions? options = null, CancellationToken cancellationToken = default)
    {
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        return Decode(bytes, Path.GetFileName(path), options);
    }

    public static async Task WriteAsync(string path, ImageBuffer image, PngEncodeOptions? options = null, CancellationToken cancellationToken = default)
    {
        var bytes = Encode(image, options);
        await File.WriteAllBytesAsync(path, bytes, cancellationToken).ConfigureAwait(false);
    }

    private readonly record struct Header(int Width, int Height, int BitDepth, int ColorType, bool Interlaced)
    {
        /// <summary>Samples per pixel as stored (palette: 1 index).</summary>
        public int StoredChannels => ColorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };
        public int BitsPerPixel => StoredChannels * BitDepth;
        /// <summary>Filter unit: bytes per complete pixel, at least 1 (PNG spec 9.2).</summary>
        public int Bpp => Math.Max(1, BitsPerPixel / 8);
        public long RowBytes(int width) => ((long)width * BitsPerPixel + 7) / 8;
    }

    /// <summary>Decodes a complete PNG stream. <paramref name="item"/> names the source in error messages.</summary>
    /// <exception cref="ImageFormatException">The stream is not a valid PNG or is truncated/corrupt.</exception>
    public static ImageBuffer Decode(ReadOnlySpan<byte> data, string item = "image.png", ImageDecodeOptions? options = null)
    {
        options ??= ImageDecodeOptions.Default;
        if (!IsPng(data)) throw Error(item, "missing PNG signature");

        Header? header = null;
        byte[]? palette = null; // RGBA entries
        int paletteCount = 0;
        bool paletteHasAlpha = false;
        var idat = new ArrayBufferWriter<byte>();
        bool sawIend = false, idatEnded = false, sawIdat = false;
        int pos = 8;
        while (pos < data.Length)
        {
            if (data.Length - pos < 12) throw Error(item, $"truncated chunk header at byte {pos}");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
            if (length > int.MaxValue) throw Error(item, $"chunk length {length} at byte {pos} exceeds 2^31-1");
            if (data.Length - pos - 12 < length) throw Error(item, $"chunk at byte {pos} claims {length} bytes but the file ends first (truncated)");
            var typeBytes = data.Slice(pos + 4, 4);
            var body = data.Slice(pos + 8, (int)length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 8 + (int)length)..]);
            string type = ChunkName(typeBytes);
            if (Crc32.Compute(typeBytes, body) != crc) throw Error(item, $"CRC mismatch in chunk '{type}' at byte {pos}");
            pos += 12 + (int)length;

            if (header is null && type != "IHDR") throw Error(item, $"first chunk is '{type}', expected IHDR");
            if (sawIdat && type != "IDAT") idatEnded = true;
            switch (type)
            {
                case "IHDR":
                    if (header is not null) throw Error(item, "more than one IHDR chunk");
                    header = ParseHeader(body, item, options);
                    break;
                case "PLTE":
                    if (body.Length % 3 != 0 || body.Length == 0 || body.Length > 768) throw Error(item, $"PLTE length {body.Length} is not 3..768 and a multiple of 3");
                    if (sawIdat) throw Error(item, "PLTE after IDAT");
                    paletteCount = body.Length / 3;
                    palette = new byte[256 * 4];
                    for (int i = 0; i < 256; i++) palette[4 * i + 3] = 255;
                    for (int i = 0; i < paletteCount; i++) { palette[4 * i] = body[3 * i]; palette[4 * i + 1] = body[3 * i + 1]; palette[4 * i + 2] = body[3 * i + 2]; }
                    break;
                case "tRNS":
                    if (header!.Value.ColorType == 3)
                    {
                        if (palette is null) throw Error(item, "tRNS before PLTE");
                        if (body.Length > paletteCount) throw Error(item, $"tRNS has {body.Length} entries for a palette of {paletteCount}");
                        for (int i = 0; i < body.Length; i++) palette[4 * i + 3] = body[i];
                        paletteHasAlpha = body.Length > 0;
                    }
                    break; // gray/RGB colour keys are ignored (documented above)
                case "IDAT":
                    if (idatEnded) throw Error(item, "IDAT chunks are not consecutive");
                    sawIdat = true;
                    idat.Write(body);
                    break;
                case "IEND":
                    sawIend = true;
                    break;
                default:
                    if ((typeBytes[0] & 0x20) == 0) throw Error(item, $"unknown critical chunk '{type}'");
                    break; // ancillary chunks (gAMA, pHYs, tEXt, iCCP, ...) are skipped
            }
            if (sawIend) break;
        }
        if (header is null) throw Error(item, "no IHDR chunk");
        if (!sawIdat) throw Error(item, "no IDAT chunk (no image data)");
        if (!sawIend) throw Error(item, "no IEND chunk (file is truncated)");
        var h = header.Value;
        if (h.ColorType == 3 && palette is null) throw Error(item, "palette image without PLTE chunk");

        long rawLength = 0;
        if (h.Interlaced)
        {
            foreach (var p in Adam7)
            {
                var (pw, ph) = PassSize(h, p);
                if (pw > 0 && ph > 0) rawLength += ph * (1 + h.RowBytes(pw));
            }
        }
        else rawLength = h.Height * (1 + h.RowBytes(h.Width));
        if (rawLength > int.MaxValue) throw Error(item, $"image data of {rawLength} bytes is too large");
        // Deflate cannot compress better than ~1032:1 (RFC 1951 maximum match length 258 per ~2 bits), so fewer compressed
        // bytes than that bound means the data is truncated; checking first avoids allocating for a lying header.
        if (rawLength > (long)idat.WrittenCount * 1040 + 4096) throw Error(item, $"{idat.WrittenCount} bytes of compressed data cannot hold {rawLength} bytes of image data (truncated)");

        var raw = ArrayPool<byte>.Shared.Rent((int)rawLength);
        try
        {
            Inflate(idat.WrittenMemory, raw.AsSpan(0, (int)rawLength), item);
            bool expandPalette = h.ColorType == 3;
            int outChannels = expandPalette ? (paletteHasAlpha ? 4 : 3) : h.StoredChannels;
            if ((long)h.Width * h.Height * outChannels * (h.BitDepth == 16 ? 2 : 1) > int.MaxValue)
                throw Error(item, $"a {h.Width}x{h.Height}x{outChannels} image does not fit in one buffer");
            var image = ImageBuffer.Create(h.Width, h.Height, outChannels, h.BitDepth == 16 ? PixelType.UInt16 : PixelType.UInt8);
            try
            {
                int offset = 0;
                if (h.Interlaced)
                {
                    foreach (var p in Adam7)
                    {
                        var (pw, ph) = PassSize(h, p);
                        if (pw == 0 || ph == 0) continue;
                        offset = DecodePass(raw.AsSpan(0, (int)rawLength), offset, h, pw, ph, p, image, palette, paletteCount, item);
                    }
                }
                else DecodePass(raw.AsSpan(0, (int)rawLength), 0, h, h.Width, h.Height, (0, 0, 1, 1), image, palette, paletteCount, item);
                return image;
            }
            catch
            {
                image.Dispose();
                throw;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
        }
    }

    private static Header ParseHeader(ReadOnlySpan<byte> body, string item, ImageDecodeOptions options)
    {
        if (body.Length != 13) throw Error(item, $"IHDR length {body.Length}, expected 13");
        uint w = BinaryPrimitives.ReadUInt32BigEndian(body), hgt = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
        int depth = body[8], color = body[9];
        if (w == 0 || hgt == 0 || w > int.MaxValue || hgt > int.MaxValue) throw Error(item, $"invalid size {w}x{hgt}");
        if ((long)w * hgt > options.MaxPixels) throw Error(item, $"size {w}x{hgt} exceeds the limit of {options.MaxPixels} pixels");
        bool valid = color switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            2 or 4 or 6 => depth is 8 or 16,
            _ => false,
        };
        if (!valid) throw Error(item, $"invalid colour type {color} with bit depth {depth}");
        if (body[10] != 0) throw Error(item, $"unknown compression method {body[10]}");
        if (body[11] != 0) throw Error(item, $"unknown filter method {body[11]}");
        if (body[12] > 1) throw Error(item, $"unknown interlace method {body[12]}");
        return new Header((int)w, (int)hgt, depth, color, body[12] == 1);
    }

    private static (int W, int H) PassSize(Header h, (int X, int Y, int Dx, int Dy) p) =>
        (h.Width <= p.X ? 0 : (h.Width - p.X + p.Dx - 1) / p.Dx, h.Height <= p.Y ? 0 : (h.Height - p.Y + p.Dy - 1) / p.Dy);

    private static void Inflate(ReadOnlyMemory<byte> compressed, Span<byte> raw, string item)
    {
        try
        {
            using var source = MemoryMarshal.TryGetArray(compressed, out var segment)
                ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
                : new MemoryStream(compressed.ToArray(), writable: false);
            using var z = new ZLibStream(source, CompressionMode.Decompress);
            int got = z.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false);
            if (got < raw.Length) throw Error(item, $"image data is truncated: {got} of {raw.Length} bytes");
            // Reading on to the end of the zlib stream makes it verify the Adler-32 trailer; extra image data is tolerated
            // (libpng only warns), but only a bounded amount is read.
            Span<byte> scratch = stackalloc byte[256];
            _ = z.Read(scratch);
        }
        catch (InvalidDataException e)
        {
            throw Error(item, $"corrupt zlib image data ({e.Message})", e);
        }
    }

    /// <summary>Unfilters one (sub-)image starting at <paramref name="offset"/> of the inflated data and scatters it into <paramref name="image"/>.</summary>
    private static int DecodePass(Span<byte> raw, int offset, Header h, int pw, int ph, (int X, int Y, int Dx, int Dy) pass,
        ImageBuffer image, byte[]? palette, int paletteCount, string item)
    {
        int rowBytes = (int)h.RowBytes(pw);
        int bpp = h.Bpp;
        var zero = new byte[rowBytes];
        Span<byte> prior = zero;
        int outCh = image.Channels;
        bool direct = pass.Dx == 1 && h.ColorType != 3 && h.BitDepth >= 8;
        var samples = direct ? [] : new ushort[pw * h.StoredChannels];
        for (int y = 0; y < ph; y++)
        {
            byte ft = raw[offset];
            if (ft > 4) throw Error(item, $"invalid filter type {ft} on row {y}");
            var row = raw.Slice(offset + 1, rowBytes);
            PngFilters.Unfilter((PngFilterType)ft, row, prior, bpp);
            prior = row;
            offset += 1 + rowBytes;

            int dy = pass.Y + y * pass.Dy;
            if (direct)
            {
                // whole rows of 8-bit samples, or 16-bit big-endian samples byte-swapped in one vectorised call
                if (h.BitDepth == 8) row.CopyTo(image.Row<byte>(dy));
                else if (BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ushort>(row), image.Row<ushort>(dy));
                else MemoryMarshal.Cast<byte, ushort>(row).CopyTo(image.Row<ushort>(dy));
                continue;
            }
            Unpack(row, h, pw, samples);
            if (h.ColorType == 3)
            {
                var dst = image.Row<byte>(dy);
                for (int x = 0; x < pw; x++)
                {
                    int index = samples[x];
                    if (index >= paletteCount) throw Error(item, $"palette index {index} out of range 0..{paletteCount - 1} at ({pass.X + x * pass.Dx}, {dy})");
                    int d = (pass.X + x * pass.Dx) * outCh;
                    for (int c = 0; c < outCh; c++) dst[d + c] = palette![4 * index + c];
                }
            }
            else if (h.BitDepth == 16)
            {
                var dst = image.Row<ushort>(dy);
                for (int x = 0; x < pw; x++)
                {
                    int d = (pass.X + x * pass.Dx) * outCh;
                    for (int c = 0; c < outCh; c++) dst[d + c] = samples[x * outCh + c];
                }
            }
            else
            {
                var dst = image.Row<byte>(dy);
                if (pass.Dx == 1)
                {
                    for (int i = 0; i < samples.Length; i++) dst[i] = (byte)samples[i];
                }
                else
                {
                    for (int x = 0; x < pw; x++)
                    {
                        int d = (pass.X + x * pass.Dx) * outCh;
                        for (int c = 0; c < outCh; c++) dst[d + c] = (byte)samples[x * outCh + c];
                    }
                }
            }
        }
        return offset;
    }

    /// <summary>Unpacks one unfiltered row into one sample per channel (16-bit big-endian -> native; 1/2/4-bit gray scaled to 8-bit).</summary>
    private static void Unpack(ReadOnlySpan<byte> row, Header h, int pw, Span<ushort> samples)
    {
        int n = pw * h.StoredChannels;
        switch (h.BitDepth)
        {
            case 16:
                for (int i = 0; i < n; i++) samples[i] = BinaryPrimitives.ReadUInt16BigEndian(row[(2 * i)..]);
                break;
            case 8:
                for (int i = 0; i < n; i++) samples[i] = row[i];
                break;
            default:
                int bits = h.BitDepth, mask = (1 << bits) - 1, perByte = 8 / bits;
                int scale = h.ColorType == 0 ? 255 / mask : 1; // 1-bit x255, 2-bit x85, 4-bit x17
                for (int i = 0; i < n; i++)
                {
                    int b = row[i / perByte];
                    int shift = 8 - bits * (i % perByte + 1);
                    samples[i] = (ushort)(((b >> shift) & mask) * scale);
                }
                break;
        }
    }

    /// <summary>Encodes an 8- or 16-bit image with 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA) channels.</summary>
    public static byte[] Encode(ImageBuffer image, PngEncodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        options ??= PngEncodeOptions.Default;
        if (image.PixelType == PixelType.Float32)
            throw new ArgumentException($"PNG stores integer samples; convert the {image} with ToInteger(UInt8 or UInt16) first", nameof(image));
        int colorType = image.Channels switch { 1 => 0, 2 => 4, 3 => 2, 4 => 6, _ => throw new ArgumentException($"unsupported channel count {image.Channels}", nameof(image)) };
        int depth = image.PixelType == PixelType.UInt16 ? 16 : 8;
        int rowBytes = image.RowLength * (depth / 8);
        int bpp = image.Channels * (depth / 8);

        using var output = new MemoryStream();
        output.Write(Signature);
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)image.Width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr[4..], (uint)image.Height);
        ihdr[8] = (byte)depth; ihdr[9] = (byte)colorType; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
        WriteChunk(output, "IHDR", ihdr);

        using (var compressed = new MemoryStream())
        {
            using (var z = new ZLibStream(compressed, options.CompressionLevel, leaveOpen: true))
            {
                var raw = new byte[rowBytes];
                var prior = new byte[rowBytes];
                var filtered = new byte[rowBytes + 1];
                var best = new byte[rowBytes + 1];
                for (int y = 0; y < image.Height; y++)
                {
                    if (depth == 16)
                    {
                        var s = image.Row<ushort>(y);
                        for (int i = 0; i < s.Length; i++) BinaryPrimitives.WriteUInt16BigEndian(raw.AsSpan(2 * i), s[i]);
                    }
                    else image.Row<byte>(y).CopyTo(raw);

                    if (options.Filter == PngFilterStrategy.Adaptive)
                    {
                        long bestCost = long.MaxValue;
                        for (int f = 0; f <= 4; f++)
                        {
                            filtered[0] = (byte)f;
                            PngFilters.Filter((PngFilterType)f, raw, prior, bpp, filtered.AsSpan(1));
                            long cost = PngFilters.Cost(filtered.AsSpan(1));
                            if (cost < bestCost) { bestCost = cost; (best, filtered) = (filtered, best); }
                        }
                        z.Write(best);
                    }
                    else
                    {
                        filtered[0] = (byte)options.Filter;
                        PngFilters.Filter((PngFilterType)options.Filter, raw, prior, bpp, filtered.AsSpan(1));
                        z.Write(filtered);
                    }
                    (raw, prior) = (prior, raw);
                }
            }
            var data = compressed.GetBuffer().AsSpan(0, (int)compressed.Length);
            const int chunkSize = 1 << 20;
            for (int i = 0; i < data.Length; i += chunkSize) WriteChunk(output, "IDAT", data.Slice(i, Math.Min(chunkSize, data.Length - i)));
            if (data.Length == 0) WriteChunk(output, "IDAT", ReadOnlySpan<byte>.Empty);
        }
        WriteChunk(output, "IEND", ReadOnlySpan<byte>.Empty);
        return output.ToArray();
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> body)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(head, (uint)body.Length);
        for (int i = 0; i < 4; i++) head[4 + i] = (byte)type[i];
        output.Write(head);
        output.Write(body);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.Compute(head[4..], body));
        output.Write(crc);
    }

    private static string ChunkName(ReadOnlySpan<byte> t)
    {
        Span<char> c = stackalloc char[4];
        for (int i = 0; i < 4; i++) c[i] = t[i] is >= 0x20 and < 0x7F ? (char)t[i] : '?';
        return new string(c);
    }

    private static ImageFormatException Error(string item, string problem, Exception? inner = null) => new(item, Format, problem, inner);
}
