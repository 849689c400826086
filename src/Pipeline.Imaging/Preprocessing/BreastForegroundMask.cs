namespace Pipeline.Imaging.Preprocessing;

public sealed record ForegroundMaskOptions
{
    /// <summary>Display-space pixels strictly above this value are tissue candidates. Air in a mammogram displays near 0.</summary>
    public float Threshold { get; init; } = 0.05f;
    /// <summary>Gaussian smoothing (<see cref="GaussianBlur"/>, sigma in pixels) before thresholding, for noisy detectors; 0 = off.</summary>
    public double SmoothingSigma { get; init; }
    public static ForegroundMaskOptions Default { get; } = new();
}

/// <summary>
/// The breast (tissue) mask of a display image in [0, 1]: threshold, keep the largest 8-connected component (drops
/// labels, markers and noise), then fill holes (background regions not 4-connected to the image border), i.e.
/// <c>binary_fill_holes(label(v &gt; t, np.ones((3, 3))) == largest)</c> in scipy.ndimage terms (8-connected foreground,
/// 4-connected background: the usual dual pair). Ties between equally large components go to the first in raster order.
/// With <see cref="ForegroundMaskOptions.SmoothingSigma"/> the threshold applies to <c>gaussian_filter(v, sigma, mode="nearest")</c>.
/// </summary>
public static class BreastForegroundMask
{
    public static byte[] Compute(ReadOnlySpan<float> display, int width, int height, ForegroundMaskOptions? options = null)
    {
        var mask = new byte[checked(width * height)];
        Compute(display, width, height, mask, options);
        return mask;
    }

    public static void Compute(ReadOnlySpan<float> display, int width, int height, Span<byte> mask, ForegroundMaskOptions? options = null)
    {
        options ??= ForegroundMaskOptions.Default;
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"size must be positive, got {width}x{height}");
        int n = width * height;
        if (display.Length != n || mask.Length != n) throw new ArgumentException($"image and mask must hold {width}x{height} samples", nameof(display));

        float t = options.Threshold;
        if (options.SmoothingSigma > 0)
        {
            var smooth = new float[n];
            GaussianBlur.Apply(display, width, height, options.SmoothingSigma, smooth);
            for (int i = 0; i < n; i++) mask[i] = smooth[i] > t ? (byte)1 : (byte)0;
        }
        else
        {
            for (int i = 0; i < n; i++) mask[i] = display[i] > t ? (byte)1 : (byte)0;
        }
        KeepLargestComponent(mask, width, height);
        FillHoles(mask, width, height);
    }

    /// <summary>Keeps only the largest 8-connected component of set pixels (mask values become 0/1).</summary>
    public static void KeepLargestComponent(Span<byte> mask, int width, int height)
    {
        for (int i = 0; i < mask.Length; i++) mask[i] = mask[i] != 0 ? (byte)1 : (byte)0;
        var runs = RunComponents.Label(mask, width, height, value: 1, eightConnected: true);
        mask.Clear();
        if (runs.Count == 0) return;
        // component sizes by root; the first run of a component in raster order decides ties (scipy's label order)
        var size = new long[runs.Count];
        for (int i = 0; i < runs.Count; i++) size[runs.Find(i)] += runs.Length(i);
        int best = -1;
        for (int i = 0; i < runs.Count; i++)
        {
            int root = runs.Find(i);
            if (best < 0 || size[root] > size[best]) best = root;
        }
        for (int i = 0; i < runs.Count; i++)
            if (runs.Find(i) == best) mask.Slice(runs.Row(i) * width + runs.Start(i), runs.Length(i)).Fill(1);
    }

    /// <summary>Sets every unset pixel that is not 4-connected (through unset pixels) to the image border.</summary>
    public static void FillHoles(Span<byte> mask, int width, int height)
    {
        for (int i = 0; i < mask.Length; i++) mask[i] = mask[i] != 0 ? (byte)1 : (byte)0;
        var runs = RunComponents.Label(mask, width, height, value: 0, eightConnected: false);
        var open = new bool[runs.Count];
        for (int i = 0; i < runs.Count; i++)
        {
            int row = runs.Row(i);
            if (row == 0 || row == height - 1 || runs.Start(i) == 0 || runs.Start(i) + runs.Length(i) == width) open[runs.Find(i)] = true;
        }
        for (int i = 0; i < runs.Count; i++)
            if (!open[runs.Find(i)]) mask.Slice(runs.Row(i) * width + runs.Start(i), runs.Length(i)).Fill(1);
    }
}

/// <summary>
/// Connected components over horizontal runs (union-find with path halving): memory and time scale with the number of
/// runs, not pixels, and there is no recursion or per-pixel stack, so a full-field mammogram is cheap.
/// </summary>
internal sealed class RunComponents
{
    private readonly List<int> _row = [], _start = [], _length = [], _parent = [];

    public int Count => _row.Count;
    public int Row(int i) => _row[i];
    public int Start(int i) => _start[i];
    public int Length(int i) => _length[i];

    public int Find(int i)
    {
        while (_parent[i] != i)
        {
            _parent[i] = _parent[_parent[i]];
            i = _parent[i];
        }
        return i;
    }

    private void Union(int a, int b)
    {
        a = Find(a); b = Find(b);
        if (a == b) return;
        // the earlier run becomes the root, so a root is always its component's first run in raster order
        if (a < b) _parent[b] = a; else _parent[a] = b;
    }

    public static RunComponents Label(ReadOnlySpan<byte> mask, int width, int height, byte value, bool eightConnected)
    {
        var c = new RunComponents();
        int previousFirst = 0, previousEnd = 0; // runs of the previous row: [previousFirst, previousEnd)
        int reach = eightConnected ? 1 : 0;
        for (int y = 0; y < height; y++)
        {
            var row = mask.Slice(y * width, width);
            int first = c.Count;
            int x = 0;
            while (x < width)
            {
                int s = row[x..].IndexOf(value);
                if (s < 0) break;
                s += x;
                int e = row[s..].IndexOfAnyExcept(value);
                e = e < 0 ? width : s + e;
                int id = c.Count;
                c._row.Add(y); c._start.Add(s); c._length.Add(e - s); c._parent.Add(id);
                x = e;
            }
            // two-pointer merge with the previous row's runs: [s, e) touches [ps, pe) when s < pe + reach and ps < e + reach
            int p = previousFirst;
            for (int i = first; i < c.Count; i++)
            {
                int s = c._start[i], e = s + c._length[i];
                while (p < previousEnd && c._start[p] + c._length[p] + reach <= s) p++;
                for (int q = p; q < previousEnd && c._start[q] < e + reach; q++) c.Union(i, q);
            }
            previousFirst = first;
            previousEnd = c.Count;
        }
        return c;
    }
}
