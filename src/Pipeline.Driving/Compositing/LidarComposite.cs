using Pipeline.Driving.Geometry;
using Pipeline.Driving.NuScenes;
using Pipeline.Driving.RangeView;
using RangeViewGrid = Pipeline.Driving.RangeView.RangeView;

namespace Pipeline.Driving.Compositing;

/// <summary>What <see cref="LidarComposite.Paste"/> did: the new sweep and its counts.</summary>
/// <param name="Points">The composited sweep (x, y, z, intensity, ring per point): the kept source points first, in their
/// order and bit for bit, then the edited points in crop order (row-major over the object-centric view).</param>
/// <param name="Removed">Source points dropped (inside the box, or in a replaced pixel).</param>
/// <param name="Added">Edited points written.</param>
/// <param name="AddedInside">Of those, inside the destination box.</param>
public sealed record LidarCompositeResult(float[] Points, int Removed, int Added, int AddedInside);

/// <summary>
/// MObI's lidar paste-back (thesis §2.3.5, §4; docs/driving.md, "Compositing"):
/// 1. the edited D x D range crop goes back to the object-centric view H x W^(R) (<see cref="RangeImage.ToObjectCentric"/>:
///    average pooling on integer downscale, else nearest) and is denormalised to metres and [0, 255];
/// 2. each crop pixel becomes a point with the stored angles of the source point in that pixel (an empty pixel: its
///    column's centre yaw and its beam's pitch), p = (d cos φ cos θ, −d sin φ cos θ, d sin θ);
/// 3. a pixel is replaced when its source point lies inside the destination box (m_points) or its edited point does;
///    a replaced pixel's source point is dropped and its edited point added when its depth is within the lidar's range;
/// 4. every source point inside the box is dropped (also those the range view could not hold: out of its rows'
///    reach or collided), and every other source point is kept bit for bit.
/// Ring of an added point: its source point's ring, else the beam's (H − 1 − row).
/// </summary>
public static class LidarComposite
{
    public static LidarCompositeResult Paste(ReadOnlySpan<float> points, RangeViewGrid view, RangeImage range, ReadOnlySpan<float> editedDepth,
        ReadOnlySpan<float> editedIntensity, Box3 boxInLidar)
    {
        const int stride = LidarPointCloud.Stride;
        if (points.Length % stride != 0) throw new ArgumentException($"points must be whole {stride}-float points", nameof(points));
        int n = points.Length / stride;
        var drop = new bool[n];
        for (int i = 0; i < n; i++)
            drop[i] = boxInLidar.Contains(new Vector3d(points[i * stride], points[i * stride + 1], points[i * stride + 2]));
        var (depth, intensity) = range.ToObjectCentric(editedDepth, editedIntensity);
        var crop = range.Crop;
        var o = view.Options;
        var added = new List<float>();
        int addedInside = 0;
        for (int row = 0; row < crop.Height; row++)
            for (int c = 0; c < crop.CropWidth; c++)
            {
                int v = crop.ViewColumn(c), pixel = row * view.Width + v, source = view.PointIndex[pixel];
                double yaw = source >= 0 ? view.Yaw[pixel] : ((v + 0.5) - view.Width / 2.0) / (view.Width / 2.0) * Math.PI;
                double pitch = source >= 0 ? view.Pitch[pixel] : o.BeamPitch(row);
                double d = depth[row * crop.CropWidth + c];
                bool valid = d >= o.MinDepth && d <= o.MaxDepth;
                var (x, y, z) = RangeViewGrid.PointAt(d, yaw, pitch);
                bool editedInside = valid && boxInLidar.Contains(new Vector3d(x, y, z));
                if (!(source >= 0 && drop[source]) && !editedInside) continue;
                if (source >= 0) drop[source] = true;
                if (!valid) continue;
                float ring = source >= 0 ? points[source * stride + 4] : o.Height - 1 - row;
                added.Add((float)x); added.Add((float)y); added.Add((float)z);
                added.Add((float)Math.Clamp(intensity[row * crop.CropWidth + c], 0, 255)); added.Add(ring);
                if (boxInLidar.Contains(new Vector3d((float)x, (float)y, (float)z))) addedInside++;
            }
        int removed = drop.Count(b => b);
        var result = new float[(n - removed) * stride + added.Count];
        int k = 0;
        for (int i = 0; i < n; i++)
        {
            if (drop[i]) continue;
            points.Slice(i * stride, stride).CopyTo(result.AsSpan(k, stride));
            k += stride;
        }
        added.CopyTo(result, k);
        return new LidarCompositeResult(result, removed, added.Count / stride, addedInside);
    }
}
