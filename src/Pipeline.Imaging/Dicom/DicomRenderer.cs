using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Pipeline.Imaging.Buffers;

namespace Pipeline.Imaging.Dicom;

/// <summary>
/// The grayscale presentation pipeline of PS3.4 N.2 as pure functions: stored values -> Modality LUT (Rescale Slope and
/// Intercept or a Modality LUT Sequence, PS3.3 C.11.1) -> VOI (window or VOI LUT, C.11.2) -> MONOCHROME1 inversion after
/// VOI -> display values in [0, 1]. Colour images are scaled to [0, 1] without VOI.
/// </summary>
public static class DicomRenderer
{
    /// <summary>Modality values (Float32) from stored values.</summary>
    public static ImageBuffer ApplyModalityLut(DicomImage image)
    {
        var a = image.Attributes;
        using var asFloat = image.Stored.PixelType == PixelType.Float32 ? null : image.Stored.ToFloat32();
        var src = (asFloat ?? image.Stored).Pixels<float>();
        var result = ImageBuffer.Create(image.Stored.Width, image.Stored.Height, image.Stored.Channels, PixelType.Float32);
        var dst = result.Pixels<float>();
        var seq = image.File.Dataset.GetSequence(DicomTag.ModalityLUTSequence);
        if (seq.Count > 0 && a.IsMonochrome)
        {
            var lut = DicomLut.From(seq[0], a.IsSigned, image.File.Item);
            for (int i = 0; i < src.Length; i++) dst[i] = lut.Lookup(src[i]);
        }
        else
        {
            double slope = a.RescaleSlope, intercept = a.RescaleIntercept;
            if (!double.IsFinite(slope) || slope == 0) throw new DicomException(image.File.Item, $"Rescale Slope {slope} is invalid");
            for (int i = 0; i < src.Length; i++) dst[i] = (float)(src[i] * slope + intercept);
        }
        return result;
    }

    /// <summary>The padding mask (true where stored values are Pixel Padding Value, or within its range limit).</summary>
    public static bool[]? PaddingMask(DicomImage image)
    {
        var a = image.Attributes;
        if (a.PixelPaddingValue is not double pad || !a.IsMonochrome) return null;
        double lo = pad, hi = a.PixelPaddingRangeLimit ?? pad;
        if (lo > hi) (lo, hi) = (hi, lo);
        var mask = new bool[image.Stored.Length];
        switch (image.Stored.PixelType)
        {
            case PixelType.UInt16: { var s = image.Stored.Pixels<ushort>(); for (int i = 0; i < s.Length; i++) mask[i] = s[i] >= lo && s[i] <= hi; break; }
            case PixelType.UInt8: { var s = image.Stored.Pixels<byte>(); for (int i = 0; i < s.Length; i++) mask[i] = s[i] >= lo && s[i] <= hi; break; }
            default: { var s = image.Stored.Pixels<float>(); for (int i = 0; i < s.Length; i++) mask[i] = s[i] >= lo && s[i] <= hi; break; }
        }
        return mask;
    }

    /// <summary>The window the options select from the file, or null when the file offers none.</summary>
    public static VoiWindow? SelectWindow(DicomImageAttributes a, int index, string item)
    {
        if (a.WindowCenters.Length == 0 || a.WindowWidths.Length == 0) return null;
        int n = Math.Min(a.WindowCenters.Length, a.WindowWidths.Length);
        if (index < 0 || index >= n) throw new DicomException(item, $"window index {index} requested but the file has {n} window(s)");
        var w = new VoiWindow(a.WindowCenters[index], a.WindowWidths[index], VoiWindow.ParseFunction(a.VoiLutFunction, item));
        w.Validate(item);
        return w;
    }

    /// <summary>
    /// Display values in [0, 1] (Float32), as a viewer would show them. Integer images are rendered through a table of
    /// every possible stored value (at most 2^16 entries, each computed by the same per-value pipeline), then one lookup
    /// per pixel; signed and float images go value by value.
    /// </summary>
    public static ImageBuffer Render(DicomImage image, DicomRenderOptions? options = null)
    {
        options ??= new DicomRenderOptions();
        var a = image.Attributes;
        if (!a.IsMonochrome)
        {
            var rgb = image.Stored.ToFloat32();
            var p = rgb.Pixels<float>();
            float scale = 1f / ((1 << Math.Min(a.BitsStored, 16)) - 1);
            for (int i = 0; i < p.Length; i++) p[i] *= scale;
            return rgb;
        }
        var stored = image.Stored;
        var output = ImageBuffer.CreateForOverwrite(stored.Width, stored.Height, 1, PixelType.Float32); // every sample is written below
        try
        {
            if (stored.PixelType is PixelType.UInt16 or PixelType.UInt8)
            {
                int levels = 1 << Math.Min(16, stored.PixelType == PixelType.UInt8 ? 8 : a.BitsStored);
                // Which values occur matters only to the min/max VOI; skip the pass otherwise.
                bool[]? present = null;
                if (ResolveSource(a, options) == VoiSource.MinMax)
                {
                    present = new bool[levels];
                    if (stored.PixelType == PixelType.UInt16) MarkPresent(stored.Pixels<ushort>(), present);
                    else foreach (var v in stored.Pixels<byte>()) present[v] = true;
                }
                var domain = new float[levels];
                for (int v = 0; v < levels; v++) domain[v] = v;
                var table = new float[levels];
                RenderValues(image, options, domain, table, present);
                if (stored.PixelType == PixelType.UInt16) Lookup(stored.Pixels<ushort>(), table, output.Pixels<float>());
                else { var s = stored.Pixels<byte>(); var o = output.Pixels<float>(); for (int i = 0; i < s.Length; i++) o[i] = table[s[i]]; }
            }
            else RenderValues(image, options, stored.Pixels<float>(), output.Pixels<float>(), null);
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    /// <summary>Auto: Window Center/Width when present, else the VOI LUT Sequence, else min/max.</summary>
    private static VoiSource ResolveSource(DicomImageAttributes a, DicomRenderOptions options)
    {
        var source = options.Window != null ? VoiSource.Window : options.VoiSource;
        if (source != VoiSource.Auto) return source;
        return a.WindowCenters.Length > 0 && a.WindowWidths.Length > 0 ? VoiSource.Window : a.VoiLutSequenceItems > 0 ? VoiSource.LutSequence : VoiSource.MinMax;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MarkPresent(ReadOnlySpan<ushort> s, bool[] present)
    {
        int max = present.Length - 1;
        for (int i = 0; i < s.Length; i++) present[Math.Min(s[i], max)] = true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Lookup(ReadOnlySpan<ushort> s, float[] table, Span<float> o)
    {
        if (table.Length == 65536)
        {
            // every 16-bit value indexes the table: no clamp, no bounds check
            ref float t = ref MemoryMarshal.GetArrayDataReference(table);
            for (int i = 0; i < s.Length; i++) o[i] = Unsafe.Add(ref t, s[i]);
            return;
        }
        int max = table.Length - 1;
        for (int i = 0; i < s.Length; i++) o[i] = table[Math.Min(s[i], max)];
    }

    /// <summary>
    /// The pipeline for a list of stored values: Modality LUT, VOI, MONOCHROME1 inversion, padding to 0.
    /// <paramref name="present"/> (when the values are a table domain) says which values occur, for the min/max VOI.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RenderValues(DicomImage image, DicomRenderOptions options, ReadOnlySpan<float> stored, Span<float> o, bool[]? present)
    {
        var a = image.Attributes;
        string item = image.File.Item;
        var m = new float[stored.Length];
        var seq = image.File.Dataset.GetSequence(DicomTag.ModalityLUTSequence);
        if (seq.Count > 0)
        {
            var lut = DicomLut.From(seq[0], a.IsSigned, item);
            for (int i = 0; i < stored.Length; i++) m[i] = lut.Lookup(stored[i]);
        }
        else
        {
            double slope = a.RescaleSlope, intercept = a.RescaleIntercept;
            if (!double.IsFinite(slope) || slope == 0) throw new DicomException(item, $"Rescale Slope {slope} is invalid");
            for (int i = 0; i < stored.Length; i++) m[i] = (float)(stored[i] * slope + intercept);
        }
        bool[]? padding = null;
        if (options.MaskPadding && a.PixelPaddingValue is double pad)
        {
            double lo = pad, hi = a.PixelPaddingRangeLimit ?? pad;
            if (lo > hi) (lo, hi) = (hi, lo);
            padding = new bool[stored.Length];
            for (int i = 0; i < stored.Length; i++) padding[i] = stored[i] >= lo && stored[i] <= hi;
        }
        switch (ResolveSource(a, options))
        {
            case VoiSource.Window:
                var window = options.Window ?? SelectWindow(a, options.VoiIndex, item)
                    ?? throw new DicomException(item, "no Window Center/Width (0028,1050/1051) in the file");
                window.Validate(item);
                window.Apply(m, o);
                break;
            case VoiSource.LutSequence:
                var items = image.File.Dataset.GetSequence(DicomTag.VOILUTSequence);
                if (options.VoiIndex < 0 || options.VoiIndex >= items.Count)
                    throw new DicomException(item, $"VOI LUT item {options.VoiIndex} requested but the file has {items.Count}");
                // The LUT's input is the modality value; its first-input value is SS when modality values can be negative.
                var voiLut = DicomLut.From(items[options.VoiIndex], a.IsSigned || a.RescaleIntercept < 0, item);
                double max = voiLut.MaxOutput;
                for (int i = 0; i < m.Length; i++) o[i] = (float)(voiLut.Lookup(m[i]) / max);
                break;
            default:
                float mn = float.MaxValue, mx = float.MinValue;
                for (int i = 0; i < m.Length; i++)
                {
                    if ((padding != null && padding[i]) || (present != null && !present[i])) continue;
                    if (m[i] < mn) mn = m[i];
                    if (m[i] > mx) mx = m[i];
                }
                if (mn > mx) { mn = 0; mx = 1; }
                new VoiWindow((mn + mx) / 2.0, Math.Max(mx - mn, 1e-6), VoiFunction.LinearExact).Apply(m, o);
                break;
        }
        // PS3.3 C.7.6.3.1.2: MONOCHROME1 is inverted after the VOI transform.
        if (a.IsMonochrome1) for (int i = 0; i < o.Length; i++) o[i] = 1f - o[i];
        if (padding != null) for (int i = 0; i < o.Length; i++) if (padding[i]) o[i] = 0f;
    }

    /// <summary>Display values quantised to 8 or 16 bits (round half to even, as <see cref="ImageBuffer.ToInteger"/>).</summary>
    public static ImageBuffer Quantise(ImageBuffer display, int bits)
    {
        if (bits is not (8 or 16)) throw new ArgumentOutOfRangeException(nameof(bits), bits, "bits must be 8 or 16");
        using var scaled = display.Clone();
        var p = scaled.Pixels<float>();
        float max = bits == 8 ? 255f : 65535f;
        for (int i = 0; i < p.Length; i++) p[i] *= max;
        return scaled.ToInteger(bits == 8 ? PixelType.UInt8 : PixelType.UInt16);
    }
}
