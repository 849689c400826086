using Pipeline.Driving.Geometry;
using Pipeline.Driving.Insertion;
using Pipeline.Driving.NuScenes;
using Pipeline.Driving.RangeView;
using RangeViewGrid = Pipeline.Driving.RangeView.RangeView;

namespace Pipeline.Driving.Runs;

/// <summary>
/// The thesis's copy&amp;paste baseline (MObI Table 2.2) at model resolution, in model space (5 x D x D): camera = the
/// reference's pixels (its minimal 2D box, stretched) pasted into the destination's projected hull of the crop; range =
/// the target sweep without its points inside the destination box plus the reference object's points moved rigidly from
/// the reference box into the destination box (scaled per axis by the sizes), as a range crop prepared like the model's.
/// </summary>
public static class CopyPasteBaseline
{
    public static float[] Crop(InsertionInputs inputs, DrivingSample referenceFrame, SampleObject reference)
    {
        int d = inputs.Resolution, n = d * d;
        var result = inputs.Target();
        // camera
        var mask = inputs.CameraMask;
        var crop = inputs.CameraCrop;
        double bx0 = crop.CornersU.Min(), bx1 = crop.CornersU.Max(), by0 = crop.CornersV.Min(), by1 = crop.CornersV.Max();
        var rb = reference.Projection.ClippedBounds;
        int rw = referenceFrame.Camera.Width, rh = referenceFrame.Camera.Height;
        for (int y = 0; y < d; y++)
            for (int x = 0; x < d; x++)
            {
                if (mask[y * d + x] <= 0) continue;
                double u = (x + 0.5 - bx0) / Math.Max(1e-9, bx1 - bx0), v = (y + 0.5 - by0) / Math.Max(1e-9, by1 - by0);
                int sx = Math.Clamp((int)Math.Floor(rb.X0 + u * rb.Width), 0, rw - 1), sy = Math.Clamp((int)Math.Floor(rb.Y0 + v * rb.Height), 0, rh - 1);
                for (int c = 0; c < 3; c++) result[c * n + y * d + x] = referenceFrame.CameraRgb[(sy * rw + sx) * 3 + c] / 127.5f - 1f;
            }
        // range: the target's points outside the box, then the reference object's points moved into it
        var target = inputs.Range.Crop;
        var points = new List<float>();
        var targetPoints = inputs.View; // the view of the target sweep: rebuild the sweep from the sample's points
        var dest = inputs.BoxInLidar;
        var src = referenceFrame.InLidar(reference.GlobalBox);
        var destM = dest.Rotation.ToMatrix();
        var srcM = src.Rotation.ToMatrix();
        var sweep = ReferenceSweep(referenceFrame);
        foreach (var p in TargetSweep(inputs)) points.Add(p);
        for (int i = 0; i + 4 < sweep.Length; i += LidarPointCloud.Stride)
        {
            var pt = new Vector3d(sweep[i], sweep[i + 1], sweep[i + 2]);
            if (!src.Contains(pt)) continue;
            var local = srcM.ApplyTransposed(pt - src.Center);
            var scaled = new Vector3d(local.X / src.Length * dest.Length, local.Y / src.Width * dest.Width, local.Z / src.Height * dest.Height);
            var moved = destM.Apply(scaled) + dest.Center;
            points.Add((float)moved.X); points.Add((float)moved.Y); points.Add((float)moved.Z); points.Add(sweep[i + 3]); points.Add(sweep[i + 4]);
        }
        var view = RangeViewGrid.FromPoints(points.ToArray(), LidarPointCloud.Stride, targetPoints.Options);
        var range = RangeImage.Create(view, target.Box, d);
        range.Depth.CopyTo(result, 3 * n);
        range.Intensity.CopyTo(result, 4 * n);
        return result;
    }

    private static float[] ReferenceSweep(DrivingSample frame) => frame.LidarPoints;

    /// <summary>The target sweep's points outside the destination box.</summary>
    private static IEnumerable<float> TargetSweep(InsertionInputs inputs)
    {
        var pts = inputs.SourcePoints;
        for (int i = 0; i + 4 < pts.Length; i += LidarPointCloud.Stride)
        {
            if (inputs.BoxInLidar.Contains(new Vector3d(pts[i], pts[i + 1], pts[i + 2]))) continue;
            for (int j = 0; j < LidarPointCloud.Stride; j++) yield return pts[i + j];
        }
    }
}
