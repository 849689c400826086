using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Pipeline.Imaging.Buffers;

namespace Pipeline.Imaging.Dicom;

/// <summary>VOI LUT Function (0028,1056), PS3.3 C.11.2.1.3.</summary>
public enum VoiFunction { Linear, LinearExact, Sigmoid }

/// <summary>
/// A VOI window (PS3.3 C.11.2.1.2): maps modality values to [0, 1] by <see cref="Function"/>. Output range here is
/// [ymin, ymax] = [0, 1].
/// </summary>
public readonly record struct VoiWindow(double Center, double Width, VoiFunction Function = VoiFunction.Linear)
{
    public static VoiFunction ParseFunction(string? name, string item) => (name ?? "LINEAR").Trim().ToUpperInvariant() switch
    {
        "" or "LINEAR" => VoiFunction.Linear,
        "LINEAR_EXACT" => VoiFunction.LinearExact,
        "SIGMOID" => VoiFunction.Sigmoid,
        var other => throw new DicomException(item, $"VOI LUT Function '{other}' is not LINEAR, LINEAR_EXACT or SIGMOID"),
    };

    /// <summary>Checks the width's lower bound for the function (PS3.3 C.11.2.1.2.1: LINEAR needs W >= 1; the others W > 0).</summary>
    public void Validate(string item)
    {
        if (!double.IsFinite(Center) || !double.IsFinite(Width)) throw new DicomException(item, $"window {Center}/{Width} is not finite");
        if (Function == VoiFunction.Linear ? Width < 1 : Width <= 0)
            throw new DicomException(item, $"Window Width {Width} is invalid for {Function} (PS3.3 C.11.2.1.2: LINEAR needs >= 1, others > 0)");
    }

    /// <summary>One value: the formulas of PS3.3 C.11.2.1.2.1 (LINEAR), C.11.2.1.3.2 (LINEAR_EXACT), C.11.2.1.3.1 (SIGMOID).</summary>
    public double Apply(double x)
    {
        double c = Center, w = Width;
        switch (Function)
        {
            case VoiFunction.Linear:
                if (x <= c - 0.5 - (w - 1) / 2) return 0;
                if (x > c - 0.5 + (w - 1) / 2) return 1;
                return (x - (c - 0.5)) / (w - 1) + 0.5;
            case VoiFunction.LinearExact:
                if (x <= c - w / 2) return 0;
                if (x > c + w / 2) return 1;
                return (x - c) / w + 0.5;
            default:
                return 1 / (1 + Math.Exp(-4 * (x - c) / w));
        }
    }

    /// <summary>Applies the window to every value (span kernel; float math with the double formula's constants folded).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(ReadOnlySpan<float> modality, Span<float> output)
    {
        if (output.Length < modality.Length) throw new ArgumentException("output is shorter than input", nameof(output));
        double c = Center, w = Width;
        if (Function == VoiFunction.Linear)
        {
            // y = (x - (c - 0.5)) / (w - 1) + 0.5 between the bounds; a single-value window (w == 1) is a step.
            double lo = c - 0.5 - (w - 1) / 2, hi = c - 0.5 + (w - 1) / 2;
            if (w == 1) { for (int i = 0; i < modality.Length; i++) output[i] = modality[i] <= lo ? 0f : 1f; return; }
            double scale = 1 / (w - 1), offset = 0.5 - (c - 0.5) * scale;
            for (int i = 0; i < modality.Length; i++)
            {
                double x = modality[i];
                output[i] = x <= lo ? 0f : x > hi ? 1f : (float)(x * scale + offset);
            }
        }
        else if (Function == VoiFunction.LinearExact)
        {
            double lo = c - w / 2, hi = c + w / 2, scale = 1 / w, offset = 0.5 - c * scale;
            for (int i = 0; i < modality.Length; i++)
            {
                double x = modality[i];
                output[i] = x <= lo ? 0f : x > hi ? 1f : (float)(x * scale + offset);
            }
        }
        else
        {
            double k = -4 / w;
            for (int i = 0; i < modality.Length; i++) output[i] = (float)(1 / (1 + Math.Exp(k * (modality[i] - c))));
        }
    }
}
