namespace Pipeline.Imaging.Dicom;

/// <summary>
/// How large an image a reader accepts, checked against the header (Rows, Columns, Samples per Pixel, Number of Frames,
/// Bits Allocated) before pixel data is decoded or a buffer allocated, so a header claiming 40,000 x 40,000 pixels is
/// refused at the cost of parsing its header. The defaults are sized for mammography: the largest full-field detectors
/// give about 4,000 x 5,000 = 2e7 pixels per frame, tomosynthesis stacks a few hundred frames of ~1e7 pixels.
/// </summary>
public sealed record DicomPixelLimits
{
    /// <summary>Largest Rows x Columns of one frame (default 100 megapixels).</summary>
    public long MaxFramePixels { get; init; } = 100_000_000;

    /// <summary>Largest decoded size of all frames, Rows x Columns x Samples x Frames x Bits Allocated / 8 bytes (default
    /// 2 GiB - 1: native decoders hand back every frame at once, and .NET arrays are indexed by int).</summary>
    public long MaxPixelDataBytes { get; init; } = int.MaxValue;

    public static DicomPixelLimits Default { get; } = new();

    /// <summary>Throws <see cref="DicomException"/> naming the item, the size it claims and the limit it exceeds.</summary>
    public void Check(string item, int rows, int columns, int samplesPerPixel, int frames, int bitsAllocated)
    {
        long framePixels = (long)rows * columns;
        if (framePixels > MaxFramePixels)
            throw new DicomException(item, $"claims {columns}x{rows} pixels per frame ({framePixels:N0}), above the limit of {MaxFramePixels:N0} pixels per frame; refused before reading pixel data (raise {nameof(DicomPixelLimits)}.{nameof(MaxFramePixels)} if the image is genuine)");
        // Bits, not bytes, so that 1-bit Segmentation frames are counted exactly (PS3.5 section 8.1.1).
        decimal bytes = Math.Ceiling((decimal)framePixels * samplesPerPixel * frames * bitsAllocated / 8);
        if (bytes > MaxPixelDataBytes)
            throw new DicomException(item, $"claims {columns}x{rows} pixels x {samplesPerPixel} sample(s) x {frames} frame(s) at {bitsAllocated} bits ({bytes:N0} bytes of pixel data), above the limit of {MaxPixelDataBytes:N0} bytes; refused before reading pixel data (raise {nameof(DicomPixelLimits)}.{nameof(MaxPixelDataBytes)} if the image is genuine)");
    }
}
