using System.Buffers.Binary;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;

namespace Pipeline.Metrics.Tests;

/// <summary>
/// PNG helpers for synthetic report thumbnails. Encoding is Pipeline.Imaging's codec (the product passes
/// already-encoded images to the report; Pipeline.Metrics itself never references Imaging).
/// </summary>
internal static class TestPng
{
    public static byte[] Encode(int width, int height, int channels, ReadOnlySpan<byte> pixels)
    {
        using var image = ImageBuffer.FromSamples(width, height, channels, pixels);
        return PngCodec.Encode(image);
    }

    /// <summary>(width, height) from a PNG's IHDR.</summary>
    public static (int Width, int Height) Size(byte[] png) =>
        (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
}
