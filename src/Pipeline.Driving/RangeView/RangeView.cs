using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Pipeline.Driving.Geometry;

namespace Pipeline.Driving.RangeView;

/// <summary>
/// A lidar sweep as a range view (thesis §2.3.2): per pixel the depth and intensity of the nearest point that falls in
/// it, and that point's own yaw and pitch, so <see cref="ToPoints"/> reconstructs every kept point exactly (to float
/// rounding). Row-major H x W planes. Empty pixels hold depth 0, intensity 0 and <see cref="PointIndex"/> -1.
/// </summary>
public sealed class RangeView
{
    private RangeView(RangeViewOptions options)
    {
        Options = options;
        int n = options.Height * options.Width;
        Depth = new float[n]; Intensity = new float[n]; Yaw = new float[n]; Pitch = new float[n];
        PointIndex = new int[n];
        Array.Fill(PointIndex, -1);
    }

    public RangeViewOptions Options { get; }
    public int Height => Options.Height;
    public int Width => Options.Width;
    public float[] Depth { get; }
    public float[] Intensity { get; }
    public float[] Yaw { get; }
    public float[] Pitch { get; }

    /// <summary>Index of the source point kept in each pixel, -1 when empty.</summary>
    public int[] PointIndex { get; }

    /// <summary>Points read.</summary>
    public int Points { get; private set; }
    /// <summary>Points outside [MinDepth, MaxDepth] (or not finite), dropped.</summary>
    public int OutOfRange { get; private set; }
    /// <summary>Points in range that lost their pixel to a nearer (or equally near, earlier) point.</summary>
    public int Collided { get; private set; }
    /// <summary>Pixels holding a point.</summary>
    public int Kept => Points - OutOfRange - Collided;

    /// <summary>
    /// Projects points (interleaved, <paramref name="stride"/> floats each: x, y, z, intensity, ... in the lidar frame).
    /// d = sqrt(x² + y² + z²); yaw = -atan2(y, x); pitch = asin(z / d); row = nearest beam
    /// (<c>H-1 - round(clip((pitch - θmin) / (θmax - θmin) (H-1), 0, H-1))</c>); column = floor(yaw / π · W/2 + W/2),
    /// clamped to W-1 (yaw = π). The nearest point wins a pixel; at equal depth the earlier point.
    /// </summary>
    /// <remarks>
    /// The angles of four points at a time come from <see cref="VectorAngles.Atan2(Vector256{double}, Vector256{double})"/>
    /// in double precision (pitch as atan2(z, sqrt(x² + y²))), a few double ulps from the library's atan2 and asin.
    /// The pixel is decided exactly: a point within 1e-9 of a column edge or of a row's rounding point is placed, and
    /// its angles stored, from <see cref="Math.Atan2"/> and <see cref="Math.Asin"/> as the formulas above say.
    /// </remarks>
    public static RangeView FromPoints(ReadOnlySpan<float> points, int stride, RangeViewOptions? options = null)
    {
        options ??= RangeViewOptions.NuScenes;
        options.Validate();
        if (stride < 4) throw new ArgumentOutOfRangeException(nameof(stride), $"points need at least x, y, z, intensity (stride >= 4), got {stride}");
        if (points.Length % stride != 0) throw new ArgumentException($"{points.Length} floats is not a whole number of {stride}-float points", nameof(points));
        var view = new RangeView(options);
        var projection = new Projection(options);
        int n = points.Length / stride, i = 0;
        const int lanes = 4;
        ref float origin = ref MemoryMarshal.GetReference(points);
        int outOfRange = 0;
        for (; i + lanes <= n; i += lanes)
        {
            // in bounds: i + 3 < n, so every read below is inside points
            ref float p0 = ref Unsafe.Add(ref origin, i * stride);
            ref float p1 = ref Unsafe.Add(ref p0, stride);
            ref float p2 = ref Unsafe.Add(ref p1, stride);
            ref float p3 = ref Unsafe.Add(ref p2, stride);
            Vector256<double> x, y, z;
            if (Sse.IsSupported)
            {
                // x, y, z, intensity of each point (stride >= 4): a 4 x 4 transpose, then widened to double
                var a = Vector128.LoadUnsafe(ref p0); var b = Vector128.LoadUnsafe(ref p1);
                var c = Vector128.LoadUnsafe(ref p2); var e = Vector128.LoadUnsafe(ref p3);
                var ab = Sse.UnpackLow(a, b); var ce = Sse.UnpackLow(c, e); // x0 x1 y0 y1 | x2 x3 y2 y3
                var zab = Sse.UnpackHigh(a, b); var zce = Sse.UnpackHigh(c, e); // z0 z1 i0 i1 | z2 z3 i2 i3
                x = Vector256.WidenLower(Sse.MoveLowToHigh(ab, ce).ToVector256Unsafe());
                y = Vector256.WidenLower(Sse.MoveHighToLow(ce, ab).ToVector256Unsafe());
                z = Vector256.WidenLower(Sse.MoveLowToHigh(zab, zce).ToVector256Unsafe());
            }
            else
            {
                x = Vector256.Create(p0, p1, p2, p3);
                y = Vector256.Create(Unsafe.Add(ref p0, 1), Unsafe.Add(ref p1, 1), Unsafe.Add(ref p2, 1), Unsafe.Add(ref p3, 1));
                z = Vector256.Create(Unsafe.Add(ref p0, 2), Unsafe.Add(ref p1, 2), Unsafe.Add(ref p2, 2), Unsafe.Add(ref p3, 2));
            }
            var v = projection.Project(x, y, z);
            if (v.Keep == 0b1111 && v.Exact == 0)
            {
                // the common case, unrolled so each lane is read from its register
                view.Place(points, stride, i, v.Depth.GetElement(0), (int)v.Pixel.GetElement(0), (float)v.Yaw.GetElement(0), (float)v.Pitch.GetElement(0));
                view.Place(points, stride, i + 1, v.Depth.GetElement(1), (int)v.Pixel.GetElement(1), (float)v.Yaw.GetElement(1), (float)v.Pitch.GetElement(1));
                view.Place(points, stride, i + 2, v.Depth.GetElement(2), (int)v.Pixel.GetElement(2), (float)v.Yaw.GetElement(2), (float)v.Pitch.GetElement(2));
                view.Place(points, stride, i + 3, v.Depth.GetElement(3), (int)v.Pixel.GetElement(3), (float)v.Yaw.GetElement(3), (float)v.Pitch.GetElement(3));
                continue;
            }
            outOfRange += lanes - BitOperations.PopCount(v.Keep);
            for (uint keep = v.Keep; keep != 0; keep &= keep - 1)
            {
                int k = BitOperations.TrailingZeroCount(keep);
                if ((v.Exact & (1u << k)) == 0) view.Place(points, stride, i + k, v.Depth[k], (int)v.Pixel[k], (float)v.Yaw[k], (float)v.Pitch[k]);
                else view.PlaceExactly(points, stride, i + k, v.Depth[k], projection);
            }
        }
        view.OutOfRange = outOfRange;
        for (; i < n; i++)
        {
            int j = i * stride;
            double x = points[j], y = points[j + 1], z = points[j + 2];
            double d = Math.Sqrt(x * x + y * y + z * z);
            if (!(d >= options.MinDepth && d <= options.MaxDepth)) { view.OutOfRange++; continue; }
            view.PlaceExactly(points, stride, i, d, projection);
        }
        view.Points = n;
        return view;
    }

    /// <summary>Places point <paramref name="i"/> from the library's atan2 and asin (see <see cref="FromPoints"/>).</summary>
    private void PlaceExactly(ReadOnlySpan<float> points, int stride, int i, double d, in Projection projection)
    {
        int j = i * stride;
        double x = points[j], y = points[j + 1], z = points[j + 2];
        double yaw = -Math.Atan2(y, x), pitch = Math.Asin(z / d);
        Place(points, stride, i, d, projection.Pixel(yaw, pitch), (float)yaw, (float)pitch);
    }

    /// <summary>Puts point <paramref name="i"/> (depth <paramref name="d"/>) in pixel <paramref name="p"/> unless a nearer point holds it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Place(ReadOnlySpan<float> points, int stride, int i, double d, int p, float yaw, float pitch)
    {
        if (PointIndex[p] >= 0 && !Displaces(points, stride, d, p)) return;
        PointIndex[p] = i;
        Depth[p] = (float)d;
        Intensity[p] = points[i * stride + 3];
        Yaw[p] = yaw;
        Pitch[p] = pitch;
    }

    /// <summary>A collision in pixel <paramref name="p"/>: counts it; true when the new point (depth <paramref name="d"/>) is nearer.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Displaces(ReadOnlySpan<float> points, int stride, double d, int p)
    {
        Collided++;
        // nearer wins; depths are compared in double (the stored float may tie where the doubles do not)
        float held = Depth[p];
        if ((float)d != held) return (float)d < held;
        int h = PointIndex[p] * stride;
        double hx = points[h], hy = points[h + 1], hz = points[h + 2];
        return d < Math.Sqrt(hx * hx + hy * hy + hz * hz);
    }

    /// <summary>The view's pixel grid: angles to continuous column and row, and to a pixel.</summary>
    private readonly struct Projection(RangeViewOptions options)
    {
        /// <summary>Distance to a column edge or a row's rounding point under which the library's angles decide.</summary>
        private const double Edge = 1e-9;
        private readonly int width = options.Width, rows = options.Height - 1;
        private readonly double minPitch = options.MinPitch, pitchSpan = options.MaxPitch - options.MinPitch;
        private readonly double minDepth = options.MinDepth, maxDepth = options.MaxDepth;

        private double Column(double yaw) => yaw / Math.PI * (width / 2.0) + width / 2.0;
        private double Row(double pitch) => Math.Clamp((pitch - minPitch) / pitchSpan * rows, 0, rows);

        public int Pixel(double yaw, double pitch)
        {
            int row = rows - (int)Math.Round(Row(pitch), MidpointRounding.ToEven);
            int col = Math.Min(width - 1, (int)Math.Floor(Column(yaw)));
            return row * width + col;
        }

        /// <summary>
        /// Depth, yaw, pitch and pixel of four points, a bit per lane kept (depth within [MinDepth, MaxDepth]) and a bit
        /// per lane within <see cref="Edge"/> of a pixel boundary (to be placed exactly).
        /// </summary>
        public Lanes Project(Vector256<double> x, Vector256<double> y, Vector256<double> z)
        {
            var r2 = x * x + y * y;
            var d = Vector256.Sqrt(r2 + z * z);
            var keep = Vector256.GreaterThanOrEqual(d, Vector256.Create(minDepth)) & Vector256.LessThanOrEqual(d, Vector256.Create(maxDepth));
            var yawV = -VectorAngles.Atan2(y, x);
            var pitchV = VectorAngles.Atan2(z, Vector256.Sqrt(r2));
            // products by the reciprocals: within a few ulps of Column and Row, far inside the Edge margin
            var colT = Vector256.FusedMultiplyAdd(yawV, Vector256.Create(width / 2.0 / Math.PI), Vector256.Create(width / 2.0));
            var rowT = Vector256.Min(Vector256.Max((pitchV - Vector256.Create(minPitch)) * (rows / pitchSpan), Vector256<double>.Zero), Vector256.Create((double)rows));
            var colEdge = Vector256.LessThan(Vector256.Abs(colT - Vector256.Round(colT)), Vector256.Create(Edge));
            var rowEdge = Vector256.LessThan(Vector256.Abs(rowT - Vector256.Floor(rowT) - Vector256.Create(0.5)), Vector256.Create(Edge));
            var row = Vector256.Create((double)rows) - Vector256.Round(rowT); // Round: to even
            var col = Vector256.Min(Vector256.Floor(colT), Vector256.Create(width - 1.0));
            return new Lanes(d, yawV, pitchV, row * width + col, keep.ExtractMostSignificantBits(), (colEdge | rowEdge).ExtractMostSignificantBits());
        }
    }

    private readonly record struct Lanes(Vector256<double> Depth, Vector256<double> Yaw, Vector256<double> Pitch, Vector256<double> Pixel, uint Keep, uint Exact);

    /// <summary>
    /// The inverse (thesis §2.3.5): every non-empty pixel back to a point x = d cos(yaw) cos(pitch),
    /// y = -d sin(yaw) cos(pitch), z = d sin(pitch), intensity; pixels in row-major order. Returns x, y, z, intensity
    /// interleaved and the pixel index of each point.
    /// </summary>
    public (float[] Points, int[] Pixels) ToPoints()
    {
        var pixels = new List<int>(Kept);
        for (int p = 0; p < PointIndex.Length; p++) if (PointIndex[p] >= 0) pixels.Add(p);
        var points = new float[pixels.Count * 4];
        for (int k = 0; k < pixels.Count; k++)
        {
            int p = pixels[k];
            var (x, y, z) = PointAt(Depth[p], Yaw[p], Pitch[p]);
            points[4 * k] = (float)x; points[4 * k + 1] = (float)y; points[4 * k + 2] = (float)z; points[4 * k + 3] = Intensity[p];
        }
        return (points, pixels.ToArray());
    }

    /// <summary>A point from depth, yaw and pitch (yaw = -atan2(y, x)).</summary>
    public static (double X, double Y, double Z) PointAt(double depth, double yaw, double pitch)
    {
        double c = Math.Cos(pitch);
        return (depth * Math.Cos(yaw) * c, -depth * Math.Sin(yaw) * c, depth * Math.Sin(pitch));
    }

    /// <summary>
    /// Continuous range-view coordinates of a lidar-frame point (thesis §2.3.2, "the coordinate-to-range transformation"
    /// applied to box corners): column = yaw / π · W/2 + W/2 (before the floor), row = H - 1/2 - (pitch - θmin) /
    /// (θmax - θmin) (H - 1) (before rounding, shifted by one half so that pixel r spans [r, r + 1)), depth in metres.
    /// </summary>
    public static (double Column, double Row, double Depth) Locate(double x, double y, double z, RangeViewOptions options)
    {
        double d = Math.Sqrt(x * x + y * y + z * z);
        double yaw = -Math.Atan2(y, x), pitch = Math.Asin(z / d);
        int rows = options.Height - 1;
        return (yaw / Math.PI * (options.Width / 2.0) + options.Width / 2.0, rows + 0.5 - (pitch - options.MinPitch) / (options.MaxPitch - options.MinPitch) * rows, d);
    }
}
