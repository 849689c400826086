using Pipeline.Driving.Geometry;

namespace Pipeline.Driving.RangeView;

/// <summary>Per-pixel errors of one object's range round trip, in metres and intensity units (0-255).</summary>
public sealed record RangeRoundTripErrors(double[] ObjectDepth, double[] MaskDepth, double[] ObjectIntensity, double[] MaskIntensity);

/// <summary>
/// The no-model round trip of MObI's object-centric range path (thesis §2.3.2 and Table 2.1, without the autoencoder):
/// crop the range view around the box, normalise, resize to D x D, resize back (average pooling), denormalise, and
/// compare with the object-centric view on the two regions Table 2.1 reports: the object's points (pixels whose
/// point lies in the 3D box) and the edit mask m^(R) (its non-empty pixels). What is left is the resize and
/// normalisation loss alone.
/// </summary>
public static class RangeRoundTrip
{
    public static RangeRoundTripErrors Measure(RangeView view, Box3 boxInLidar, int resolution, double alpha = DepthNormalisation.DefaultAlpha)
    {
        var rangeBox = RangeBox.Project(boxInLidar, view.Options);
        var image = RangeImage.Create(view, rangeBox, resolution, alpha);
        var crop = image.Crop;
        var (depth, intensity) = image.ToObjectCentric();
        var originalDepth = crop.Extract(view.Depth);
        var originalIntensity = crop.Extract(view.Intensity);
        var mask = crop.Mask(crop.CropWidth, crop.Height);
        var od = new List<double>(); var md = new List<double>(); var oi = new List<double>(); var mi = new List<double>();
        for (int r = 0; r < crop.Height; r++)
            for (int c = 0; c < crop.CropWidth; c++)
            {
                int v = r * view.Width + crop.ViewColumn(c), k = r * crop.CropWidth + c;
                if (view.PointIndex[v] < 0) continue;
                double de = Math.Abs(depth[k] - originalDepth[k]), ie = intensity[k] - originalIntensity[k];
                var (x, y, z) = RangeView.PointAt(view.Depth[v], view.Yaw[v], view.Pitch[v]);
                if (boxInLidar.Contains(new Vector3d(x, y, z))) { od.Add(de); oi.Add(ie * ie); }
                if (mask[k] > 0) { md.Add(de); mi.Add(ie * ie); }
            }
        return new RangeRoundTripErrors(od.ToArray(), md.ToArray(), oi.ToArray(), mi.ToArray());
    }

    public static double Median(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
