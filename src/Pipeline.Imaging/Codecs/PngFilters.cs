using System.Numerics;

namespace Pipeline.Imaging.Codecs;

/// <summary>The five PNG scanline filters (PNG spec, section 9, "Filtering"), forward and inverse, over one row of bytes.</summary>
public enum PngFilterType : byte
{
    None = 0,
    Sub = 1,
    Up = 2,
    Average = 3,
    Paeth = 4,
}

internal static class PngFilters
{
    /// <summary>Undoes filter <paramref name="type"/> in place on <paramref name="row"/>; <paramref name="prior"/> is the previous reconstructed row (zeros for the first).</summary>
    public static void Unfilter(PngFilterType type, Span<byte> row, ReadOnlySpan<byte> prior, int bpp)
    {
        switch (type)
        {
            case PngFilterType.None:
                break;
            case PngFilterType.Sub:
                for (int i = bpp; i < row.Length; i++) row[i] += row[i - bpp];
                break;
            case PngFilterType.Up:
                AddBytes(row, prior);
                break;
            case PngFilterType.Average:
                for (int i = 0; i < bpp; i++) row[i] += (byte)(prior[i] >> 1);
                for (int i = bpp; i < row.Length; i++) row[i] += (byte)((row[i - bpp] + prior[i]) >> 1);
                break;
            case PngFilterType.Paeth:
                for (int i = 0; i < bpp; i++) row[i] += prior[i]; // Paeth(0, b, 0) = b
                for (int i = bpp; i < row.Length; i++) row[i] += Predict(row[i - bpp], prior[i], prior[i - bpp]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type));
        }
    }

    /// <summary>Applies filter <paramref name="type"/> to <paramref name="row"/> (raw) writing <paramref name="output"/> (same length).</summary>
    public static void Filter(PngFilterType type, ReadOnlySpan<byte> row, ReadOnlySpan<byte> prior, int bpp, Span<byte> output)
    {
        int n = row.Length, head = Math.Min(bpp, n);
        switch (type)
        {
            case PngFilterType.None:
                row.CopyTo(output);
                break;
            case PngFilterType.Sub:
                row[..head].CopyTo(output);
                for (int i = head; i < n; i++) output[i] = (byte)(row[i] - row[i - bpp]);
                break;
            case PngFilterType.Up:
            {
                int i = 0;
                if (Vector.IsHardwareAccelerated)
                    for (; i <= n - Vector<byte>.Count; i += Vector<byte>.Count)
                        (new Vector<byte>(row[i..]) - new Vector<byte>(prior[i..])).CopyTo(output[i..]);
                for (; i < n; i++) output[i] = (byte)(row[i] - prior[i]);
                break;
            }
            case PngFilterType.Average:
                for (int i = 0; i < head; i++) output[i] = (byte)(row[i] - (prior[i] >> 1));
                for (int i = head; i < n; i++) output[i] = (byte)(row[i] - ((row[i - bpp] + prior[i]) >> 1));
                break;
            case PngFilterType.Paeth:
                for (int i = 0; i < head; i++) output[i] = (byte)(row[i] - prior[i]);
                for (int i = head; i < n; i++) output[i] = (byte)(row[i] - Predict(row[i - bpp], prior[i], prior[i - bpp]));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type));
        }
    }

    /// <summary>The Paeth predictor (PNG spec 9.4): whichever of left, above, upper-left is closest to left + above - upper-left.</summary>
    private static byte Predict(byte a, byte b, byte c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc) return a;
        return pb <= pc ? b : c;
    }

    /// <summary>row[i] += prior[i] (mod 256), vectorised.</summary>
    private static void AddBytes(Span<byte> row, ReadOnlySpan<byte> prior)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= row.Length - Vector<byte>.Count; i += Vector<byte>.Count)
                (new Vector<byte>(row[i..]) + new Vector<byte>(prior[i..])).CopyTo(row[i..]);
        }
        for (; i < row.Length; i++) row[i] += prior[i];
    }

    /// <summary>libpng's heuristic for adaptive filtering: the filtered row with the smallest sum of |signed byte|.</summary>
    public static long Cost(ReadOnlySpan<byte> filtered)
    {
        long sum = 0;
        foreach (var b in filtered) sum += b < 128 ? b : 256 - b;
        return sum;
    }
}
