namespace Pipeline.Imaging.Preprocessing;

/// <summary>The three AnydoorMed evaluation tasks (docs/reference.md, "Evaluation sampling").</summary>
public enum AugmentationTask
{
    /// <summary>A reference lesion placed into healthy tissue of another image.</summary>
    Insertion,
    /// <summary>An existing lesion replaced by a reference lesion of similar size.</summary>
    Replacement,
    /// <summary>A lesion removed and regenerated from its own crop.</summary>
    Reinsertion,
}

/// <summary>An annotated lesion: the image it is in, its box, and its class (VinDr finding category) if known.</summary>
public sealed record LesionRef(string ImageId, BoxF Box, string? Category = null);

/// <summary>One planned edit: generate <see cref="Reference"/>'s lesion inside <see cref="TargetBox"/> of the target image.</summary>
public sealed record TaskPlacement(AugmentationTask Task, LesionRef Reference, BoxF TargetBox);

public sealed record InsertionOptions
{
    /// <summary>Random candidate boxes tried (thesis: 20).</summary>
    public int Candidates { get; init; } = 20;
    /// <summary>Side of the square eroding the foreground mask before scoring (AnydoorMed vindr_mammo.py: 20 x 20).</summary>
    public int Erosion { get; init; } = 20;
    /// <summary>A candidate is accepted when its eroded-foreground fraction is strictly above this (thesis: 90%).</summary>
    public double MinForegroundFraction { get; init; } = 0.9;
    /// <summary>
    /// Draw candidate centres only where the whole box, grown by Erosion / 2 pixels on each side, lies in the tissue
    /// and in the image; only when there is no such centre, the thesis's pools. The thesis's rule alone accepts a box
    /// with up to 10% of it outside the eroded tissue and counts the image border as tissue, which can put an inserted
    /// lesion on the skin line or against the image edge (where the zoom-in crop is padded). false: the thesis's
    /// sampling exactly.
    /// </summary>
    public bool WhollyInside { get; init; } = true;
    public static InsertionOptions Default { get; } = new();
    /// <summary>The AnydoorMed sampling without the wholly-inside rule.</summary>
    public static InsertionOptions Thesis { get; } = new() { WhollyInside = false };
}

public sealed record InsertionCandidate(PixelRect Box, double ForegroundFraction, bool Accepted);

/// <param name="Box">The chosen box (the first accepted candidate, else the one with the highest fraction, first on ties).</param>
/// <param name="ChosenIndex">Index of the chosen candidate.</param>
public sealed record InsertionPlacement(PixelRect Box, int ChosenIndex, IReadOnlyList<InsertionCandidate> Candidates)
{
    public bool Accepted => Candidates[ChosenIndex].Accepted;
}

/// <summary>
/// Insertion: where in the target's tissue a reference lesion goes. The box has the reference's size rounded up to whole
/// pixels (<c>bw = max(1, ceil(w))</c>). Each candidate draws one pixel uniformly among the set pixels of the eroded
/// foreground mask (<c>k = rng.NextInt(count)</c>, the k-th set pixel in raster order; the plain foreground mask when the
/// eroded one is empty, the whole image when both are), centres the box there
/// (<c>x0 = clamp(px - bw / 2, 0, W - bw)</c>, integer division) and scores it by the fraction of eroded-foreground pixels
/// inside it. With <see cref="InsertionOptions.WhollyInside"/> (the default) the centres are drawn, the same way, from the
/// pixels whose box grown by <c>Erosion / 2</c> lies wholly in the tissue, when there are any.
/// </summary>
public static class InsertionSampler
{
    public static InsertionPlacement Sample(ReadOnlySpan<byte> foreground, int width, int height, double referenceWidth, double referenceHeight,
        ref SplitMix64 rng, InsertionOptions? options = null)
    {
        options ??= InsertionOptions.Default;
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size must be positive, got {width}x{height}");
        if (foreground.Length != width * height) throw new ArgumentException($"foreground mask must hold {width}x{height} samples", nameof(foreground));
        if (!double.IsFinite(referenceWidth) || !double.IsFinite(referenceHeight) || referenceWidth < 0 || referenceHeight < 0)
            throw new ArgumentOutOfRangeException(nameof(referenceWidth), $"reference size {referenceWidth}x{referenceHeight} is invalid");
        if (options.Candidates < 1) throw new ArgumentOutOfRangeException(nameof(options), "at least one candidate is needed");
        int bw = Math.Max(1, (int)Math.Ceiling(referenceWidth)), bh = Math.Max(1, (int)Math.Ceiling(referenceHeight));
        if (bw > width || bh > height)
            throw new ArgumentException($"a {bw}x{bh} reference lesion does not fit into a {width}x{height} target image", nameof(referenceWidth));

        var eroded = new byte[foreground.Length];
        if (options.Erosion > 1) BinaryMorphology.ErodeSquare(foreground, width, height, options.Erosion, eroded);
        else for (int i = 0; i < eroded.Length; i++) eroded[i] = foreground[i] != 0 ? (byte)1 : (byte)0;

        ReadOnlySpan<byte> pool = eroded;
        long count = Count(eroded);
        byte[]? inside = options.WhollyInside ? InsideCentres(foreground, width, height, bw, bh, Math.Max(0, options.Erosion / 2)) : null;
        long insideCount = inside is null ? 0 : Count(inside);
        if (insideCount > 0) { pool = inside; count = insideCount; }
        else if (count == 0) { pool = foreground; count = Count(foreground); }
        bool wholeImage = count == 0;
        var rowCounts = RowPrefix(pool, width, height, wholeImage);
        count = rowCounts[height];

        var candidates = new List<InsertionCandidate>(options.Candidates);
        int chosen = -1, best = 0;
        for (int k = 0; k < options.Candidates; k++)
        {
            long pick = (long)(rng.NextDouble() * count);
            if (pick >= count) pick = count - 1;
            var (px, py) = Locate(pool, width, rowCounts, pick, wholeImage);
            int x0 = Math.Clamp(px - bw / 2, 0, width - bw), y0 = Math.Clamp(py - bh / 2, 0, height - bh);
            var box = new PixelRect(x0, y0, bw, bh);
            double fraction = BinaryMorphology.Fraction(eroded, width, height, box);
            bool ok = fraction > options.MinForegroundFraction;
            candidates.Add(new InsertionCandidate(box, fraction, ok));
            if (ok && chosen < 0) chosen = k;
            if (fraction > candidates[best].ForegroundFraction) best = k;
        }
        return new InsertionPlacement(candidates[chosen >= 0 ? chosen : best].Box, chosen >= 0 ? chosen : best, candidates);
    }

    private static long Count(ReadOnlySpan<byte> mask) => mask.Length - mask.Count((byte)0);

    /// <summary>
    /// 1 at the centres (px, py) whose box (x0 = px - bw / 2, y0 = py - bh / 2, unclamped) grown by
    /// <paramref name="margin"/> lies in the image and holds no background pixel (a summed-area table of the background:
    /// O(width x height)).
    /// </summary>
    private static byte[] InsideCentres(ReadOnlySpan<byte> foreground, int width, int height, int bw, int bh, int margin)
    {
        var background = new int[(width + 1) * (height + 1)];
        for (int y = 0; y < height; y++)
        {
            int rowSum = 0;
            for (int x = 0; x < width; x++)
            {
                rowSum += foreground[y * width + x] == 0 ? 1 : 0;
                background[(y + 1) * (width + 1) + x + 1] = background[y * (width + 1) + x + 1] + rowSum;
            }
        }
        var centres = new byte[width * height];
        for (int py = 0; py < height; py++)
        {
            int top = py - bh / 2 - margin, bottom = py - bh / 2 + bh + margin;
            if (top < 0 || bottom > height) continue;
            for (int px = 0; px < width; px++)
            {
                int left = px - bw / 2 - margin, right = px - bw / 2 + bw + margin;
                if (left < 0 || right > width) continue;
                int holes = background[bottom * (width + 1) + right] - background[top * (width + 1) + right]
                          - background[bottom * (width + 1) + left] + background[top * (width + 1) + left];
                if (holes == 0) centres[py * width + px] = 1;
            }
        }
        return centres;
    }

    /// <summary>Cumulative set-pixel counts before each row (every pixel counts when <paramref name="all"/>).</summary>
    private static long[] RowPrefix(ReadOnlySpan<byte> mask, int width, int height, bool all)
    {
        var prefix = new long[height + 1];
        for (int y = 0; y < height; y++)
            prefix[y + 1] = prefix[y] + (all ? width : width - mask.Slice(y * width, width).Count((byte)0));
        return prefix;
    }

    private static (int X, int Y) Locate(ReadOnlySpan<byte> mask, int width, long[] prefix, long k, bool allPixels)
    {
        int lo = 0, hi = prefix.Length - 2; // row y holds indices [prefix[y], prefix[y+1])
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (prefix[mid] <= k) lo = mid; else hi = mid - 1;
        }
        int y = lo;
        long within = k - prefix[y];
        if (allPixels) return ((int)within, y);
        var row = mask.Slice(y * width, width);
        for (int x = 0; x < width; x++)
            if (row[x] != 0 && within-- == 0) return (x, y);
        throw new InvalidOperationException("set-pixel index out of range"); // unreachable: prefix counts come from the same mask
    }
}

public sealed record ReplacementOptions
{
    /// <summary>Relative tolerance on width and height (AnydoorMed: 15%).</summary>
    public double Tolerance { get; init; } = 0.15;
    /// <summary>Only references of the target lesion's category.</summary>
    public bool SameCategoryOnly { get; init; }
    /// <summary>Skip references from the target's own image.</summary>
    public bool ExcludeSameImage { get; init; } = true;
    public static ReplacementOptions Default { get; } = new();
}

/// <summary>
/// Replacement: a reference "of similar size": <c>|w_ref - w| &lt;= tol w</c> and <c>|h_ref - h| &lt;= tol h</c>; one
/// drawn uniformly (<c>rng.NextInt(matches)</c>, in the order given) from the matches. No match: null (the item is skipped
/// and reported by the caller).
/// </summary>
public static class ReplacementSampler
{
    public static TaskPlacement? Sample(LesionRef target, IReadOnlyList<LesionRef> references, ref SplitMix64 rng, ReplacementOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(references);
        options ??= ReplacementOptions.Default;
        target.Box.Validate(nameof(target));
        double w = target.Box.Width, h = target.Box.Height, tol = options.Tolerance;
        var matches = new List<LesionRef>();
        foreach (var r in references)
        {
            if (options.ExcludeSameImage && r.ImageId == target.ImageId) continue;
            if (options.SameCategoryOnly && !string.Equals(r.Category, target.Category, StringComparison.Ordinal)) continue;
            if (IsSimilar(r.Box.Width, r.Box.Height, w, h, tol)) matches.Add(r);
        }
        if (matches.Count == 0) return null;
        return new TaskPlacement(AugmentationTask.Replacement, matches[rng.NextInt(matches.Count)], target.Box);
    }

    /// <summary>The similar-size rule: |w_ref - w| &lt;= tol w and |h_ref - h| &lt;= tol h (w, h: the target lesion's).</summary>
    public static bool IsSimilar(double referenceWidth, double referenceHeight, double width, double height, double tolerance) =>
        Math.Abs(referenceWidth - width) <= tolerance * width && Math.Abs(referenceHeight - height) <= tolerance * height;
}

/// <summary>Reinsertion: the lesion is removed and regenerated from its own crop; no randomness.</summary>
public static class ReinsertionSampler
{
    public static TaskPlacement Sample(LesionRef lesion)
    {
        ArgumentNullException.ThrowIfNull(lesion);
        lesion.Box.Validate(nameof(lesion));
        return new TaskPlacement(AugmentationTask.Reinsertion, lesion, lesion.Box);
    }
}
