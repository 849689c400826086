namespace Pipeline.Imaging.Codecs;

/// <summary>
/// A PNG or JPEG stream could not be decoded (or an image could not be encoded): names the item
/// (file name, blob name or caller-supplied label) and what was wrong with it. Corrupt input always
/// ends in this exception, never in a crash, a hang or an unrelated exception type.
/// </summary>
public sealed class ImageFormatException : Exception
{
    public ImageFormatException(string item, string format, string problem, Exception? inner = null)
        : base($"{item}: not a readable {format} image: {problem}", inner)
    {
        Item = item; Format = format; Problem = problem;
    }

    /// <summary>The file name or label of the offending image.</summary>
    public string Item { get; }

    /// <summary>"PNG" or "JPEG".</summary>
    public string Format { get; }

    /// <summary>What was wrong, without the item name.</summary>
    public string Problem { get; }
}

/// <summary>Limits applied while decoding, so a corrupt or hostile header cannot make the decoder allocate without bound.</summary>
public sealed record ImageDecodeOptions
{
    /// <summary>Largest accepted width x height. Mammograms are ~4000 x 5000 = 2e7; the default leaves ample room.</summary>
    public long MaxPixels { get; init; } = 1L << 27;

    public static ImageDecodeOptions Default { get; } = new();
}
