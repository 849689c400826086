using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Pipeline.Imaging.Buffers;

namespace Pipeline.Imaging.Dicom;

/// <summary>
/// RLE Lossless (PS3.5 annex G) in managed code: per frame one fragment holding a 64-byte header (segment count and
/// 15 offsets) and up to 15 PackBits segments, one per byte plane, most significant byte first (G.2). Decoding it here
/// rather than in GDCM keeps a simple, bounds-checked codec out of native code and avoids GDCM's temporary file.
/// </summary>
internal static class RleDecoder
{
    public static ImageBuffer Decode(DicomElement pixel, string item, DicomImageAttributes a, int frame)
    {
        var fragments = pixel.Fragments!;
        // One fragment per frame for RLE (PS3.5 G.5 / A.4.2); the Basic Offset Table is fragment 0.
        if (fragments.Count - 1 < a.NumberOfFrames)
            throw new DicomException(item, $"RLE: {a.NumberOfFrames} frame(s) but {fragments.Count - 1} fragment(s)");
        var data = fragments[1 + frame].Span;
        if (data.Length < 64) throw new DicomException(item, $"RLE: frame {frame} is {data.Length} bytes, shorter than its 64-byte header");
        int bytesPerSample = a.BitsAllocated / 8;
        int segments = (int)BinaryPrimitives.ReadUInt32LittleEndian(data);
        int expectedSegments = bytesPerSample * a.SamplesPerPixel;
        if (segments != expectedSegments)
            throw new DicomException(item, $"RLE: header declares {segments} segment(s); {a.BitsAllocated}-bit x {a.SamplesPerPixel} sample(s) needs {expectedSegments}");
        int pixels = a.Rows * a.Columns;
        // Planes decoded into a planar byte image: plane p holds byte (bytesPerSample - 1 - p % bytesPerSample) of sample p / bytesPerSample.
        var raw = new byte[pixels * expectedSegments];
        var plane = new byte[pixels];
        for (int s = 0; s < segments; s++)
        {
            long start = BinaryPrimitives.ReadUInt32LittleEndian(data[(4 + 4 * s)..]);
            long end = s + 1 < segments ? BinaryPrimitives.ReadUInt32LittleEndian(data[(8 + 4 * s)..]) : data.Length;
            if (start < 64 || end > data.Length || end < start)
                throw new DicomException(item, $"RLE: segment {s} offsets {start}..{end} are outside the {data.Length}-byte frame");
            DecodeSegment(data[(int)start..(int)end], plane, item, s);
            int sample = s / bytesPerSample, byteIndex = bytesPerSample - 1 - s % bytesPerSample;
            int stride = expectedSegments;
            int offset = sample * bytesPerSample + byteIndex;
            for (int i = 0; i < pixels; i++) raw[i * stride + offset] = plane[i];
        }
        // raw is now interleaved little-endian samples, ready for the native path.
        return DicomImage.FromRaw(raw, item, a, planar: false);
    }

    /// <summary>PackBits (G.3.1): n in 0..127 copies n+1 literal bytes; -127..-1 repeats the next byte 1-n times; -128 is a no-op.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DecodeSegment(ReadOnlySpan<byte> src, Span<byte> dst, string item, int segment)
    {
        int si = 0, di = 0;
        while (di < dst.Length)
        {
            if (si >= src.Length) throw new DicomException(item, $"RLE: segment {segment} ends after {di} of {dst.Length} bytes");
            sbyte n = (sbyte)src[si++];
            if (n >= 0)
            {
                int count = n + 1;
                if (si + count > src.Length || di + count > dst.Length)
                    throw new DicomException(item, $"RLE: segment {segment} literal run of {count} overruns at byte {si}");
                src.Slice(si, count).CopyTo(dst[di..]);
                si += count; di += count;
            }
            else if (n != -128)
            {
                int count = 1 - n;
                if (si >= src.Length || di + count > dst.Length)
                    throw new DicomException(item, $"RLE: segment {segment} replicate run of {count} overruns at byte {si}");
                dst.Slice(di, count).Fill(src[si++]);
                di += count;
            }
        }
    }
}
