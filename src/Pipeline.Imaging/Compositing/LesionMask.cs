using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Preprocessing;

namespace Pipeline.Imaging.Compositing;

/// <summary>How a lesion mask was obtained: from the inpainted difference, or the whole box when nothing changed.</summary>
public enum LesionMaskSource { Difference, Box }

/// <summary>A full-image lesion mask (1 inside, 0 outside, row-major) and how it was made.</summary>
public sealed record LesionMaskResult(byte[] Mask, int Width, int Height, LesionMaskSource Source, double Threshold, int Pixels);

/// <summary>
/// The mask of a synthetic lesion, from what the inpainting changed (docs/dicom.md, "Segmentations"): inside the
/// integer cover of the target box, <c>d = |composite - original|</c> in stored values; the pixels with d above Otsu's
/// threshold of d over the box (N. Otsu, "A threshold selection method from gray-level histograms", IEEE Trans. SMC 9(1),
/// 1979; 256-bin histogram over [min d, max d] as skimage.filters.threshold_otsu computes it) form the mask, reduced to
/// its largest 8-connected component with holes filled (<see cref="BreastForegroundMask.KeepLargestComponent"/>,
/// <see cref="BreastForegroundMask.FillHoles"/>). The model regenerates the whole box, so small changes are background
/// texture and the large ones the inserted lesion; Otsu separates the two without a tuned constant. When nothing in the
/// box changed (d constant) the mask is the box itself (<see cref="LesionMaskSource.Box"/>), and the caller says so.
/// </summary>
public static class LesionMask
{
    public const int Bins = 256;

    public static LesionMaskResult FromDifference(ImageBuffer original, ImageBuffer composite, BoxF box)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(composite);
        if (original.Width != composite.Width || original.Height != composite.Height || original.Channels != 1 || composite.Channels != 1)
            throw new ArgumentException($"original {original} and composite {composite} must be single-channel images of one size");
        int width = original.Width, height = original.Height;
        var rect = box.Cover().ClipTo(width, height);
        var mask = new byte[width * height];
        if (rect.IsEmpty) return new LesionMaskResult(mask, width, height, LesionMaskSource.Box, 0, 0);
        // only the box's samples are read
        var a = original.WindowToFloat32(rect.Left, rect.Top, rect.Width, rect.Height);
        var b = composite.WindowToFloat32(rect.Left, rect.Top, rect.Width, rect.Height);
        var d = new double[a.Length];
        for (int i = 0; i < d.Length; i++) d[i] = Math.Abs((double)b[i] - a[i]);
        var local = new byte[d.Length];
        double threshold = 0;
        var source = LesionMaskSource.Difference;
        if (OtsuThreshold(d) is { } t)
        {
            threshold = t;
            for (int i = 0; i < d.Length; i++) local[i] = d[i] > t ? (byte)1 : (byte)0;
            BreastForegroundMask.KeepLargestComponent(local, rect.Width, rect.Height);
            BreastForegroundMask.FillHoles(local, rect.Width, rect.Height);
        }
        else
        {
            local.AsSpan().Fill(1);
            source = LesionMaskSource.Box;
        }
        int count = 0;
        for (int y = 0; y < rect.Height; y++)
        {
            var row = local.AsSpan(y * rect.Width, rect.Width);
            row.CopyTo(mask.AsSpan((rect.Top + y) * width + rect.Left, rect.Width));
            foreach (var v in row) count += v;
        }
        return new LesionMaskResult(mask, width, height, source, threshold, count);
    }

    /// <summary>
    /// Otsu's threshold as skimage.filters.threshold_otsu (0.19) computes it for float input: numpy's 256-bin histogram
    /// over [min, max] (uniform bins, the last one closed), bin centres, cumulative class weights and means, the bin
    /// centre maximising <c>w1 w2 (m1 - m2)^2</c> (first maximum). Null when all values are equal (no threshold).
    /// </summary>
    public static double? OtsuThreshold(ReadOnlySpan<double> values)
    {
        if (values.Length == 0) return null;
        double min = double.MaxValue, max = double.MinValue;
        foreach (var v in values) { if (v < min) min = v; if (v > max) max = v; }
        if (min == max) return null;
        var edges = new double[Bins + 1];
        for (int i = 0; i <= Bins; i++) edges[i] = min + (max - min) * i / Bins; // numpy.linspace
        edges[Bins] = max;
        var counts = new long[Bins];
        double norm = Bins / (max - min);
        foreach (var v in values)
        {
            // numpy.histogram's uniform-bin index with its two edge corrections.
            int k = (int)((v - min) * norm);
            if (k == Bins) k--;
            if (v < edges[k]) k--;
            else if (k != Bins - 1 && v >= edges[k + 1]) k++;
            counts[k]++;
        }
        var centers = new double[Bins];
        for (int i = 0; i < Bins; i++) centers[i] = (edges[i] + edges[i + 1]) / 2;
        var w1 = new double[Bins]; var m1 = new double[Bins];
        var w2 = new double[Bins]; var m2 = new double[Bins];
        double cw = 0, cm = 0;
        for (int i = 0; i < Bins; i++) { cw += counts[i]; cm += counts[i] * centers[i]; w1[i] = cw; m1[i] = cm / cw; }
        cw = 0; cm = 0;
        for (int i = Bins - 1; i >= 0; i--) { cw += counts[i]; cm += counts[i] * centers[i]; w2[i] = cw; m2[i] = cm / cw; }
        int best = 0;
        double bestVariance = double.NegativeInfinity;
        for (int i = 0; i < Bins - 1; i++)
        {
            double diff = m1[i] - m2[i + 1];
            double variance = w1[i] * w2[i + 1] * diff * diff;
            if (variance > bestVariance) { bestVariance = variance; best = i; } // first maximum, as numpy.argmax; bins 0 and 255 hold min and max, so no class is empty
        }
        return centers[best];
    }
}
