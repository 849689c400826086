using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Pipeline.Imaging.Buffers;

namespace Pipeline.Imaging.Dicom;

/// <summary>Where the VOI transform comes from.</summary>
public enum VoiSource
{
    /// <summary>Window Center/Width when present, else the VOI LUT Sequence, else the image's min/max.</summary>
    Auto,
    Window,
    LutSequence,
    /// <summary>A LINEAR_EXACT window spanning the non-padding modality values.</summary>
    MinMax,
}

/// <summary>How to render an image for display.</summary>
public sealed class DicomRenderOptions
{
    public VoiSource VoiSource { get; set; } = VoiSource.Auto;

    /// <summary>Which of multiple window values / VOI LUT items to use (PS3.3 C.11.2.1.2: several may be offered).</summary>
    public int VoiIndex { get; set; }

    /// <summary>An explicit window that overrides the file's.</summary>
    public VoiWindow? Window { get; set; }

    /// <summary>Render pixel-padding pixels as 0 (black) rather than through the VOI (PS3.3 C.7.5.1.1.2).</summary>
    public bool MaskPadding { get; set; } = true;
}
