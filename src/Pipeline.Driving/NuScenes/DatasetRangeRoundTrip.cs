using Pipeline.Driving.Camera;
using Pipeline.Driving.RangeView;
using RV = Pipeline.Driving.RangeView.RangeView;

namespace Pipeline.Driving.NuScenes;

/// <summary>Table 2.1's four numbers for one resolution D, pooled over every object point and mask pixel of the objects measured.</summary>
public sealed record RangeRoundTripSummary(int Resolution, int Objects, int ObjectPixels, int MaskPixels,
    double MedianDepthErrorObject, double MedianDepthErrorMask, double IntensityMseObject, double IntensityMseMask);

/// <summary>
/// The no-model range round trip (<see cref="RangeRoundTrip"/>) over a dataset: every object of every sample that passes
/// MObI's filters (or, with <c>allObjects</c>, every object with at least one lidar point), pooled per resolution.
/// </summary>
public static class DatasetRangeRoundTrip
{
    public static async Task<IReadOnlyList<RangeRoundTripSummary>> MeasureAsync(string folder, IReadOnlyList<int> resolutions, bool allObjects = false,
        ObjectFilterOptions? filters = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        var db = await NuScenesDataset.LoadAsync(folder, cancellationToken).ConfigureAwait(false);
        var pooled = resolutions.Select(_ => (Od: new List<double>(), Md: new List<double>(), Oi: new List<double>(), Mi: new List<double>(), N: new int[1])).ToArray();
        int done = 0;
        foreach (var s in db.OrderedSamples())
        {
            var sample = await DrivingSample.LoadAsync(folder, db, s, filters, cancellationToken).ConfigureAwait(false);
            var view = RV.FromPoints(sample.LidarPoints, LidarPointCloud.Stride);
            foreach (var o in sample.Objects.Where(o => allObjects ? o.Annotation.NumLidarPts > 0 : o.Decision.Keep))
                for (int r = 0; r < resolutions.Count; r++)
                {
                    var e = RangeRoundTrip.Measure(view, sample.InLidar(o.GlobalBox), resolutions[r]);
                    pooled[r].Od.AddRange(e.ObjectDepth); pooled[r].Md.AddRange(e.MaskDepth);
                    pooled[r].Oi.AddRange(e.ObjectIntensity); pooled[r].Mi.AddRange(e.MaskIntensity);
                    pooled[r].N[0]++;
                }
            progress?.Report(++done);
        }
        return resolutions.Select((d, r) => new RangeRoundTripSummary(d, pooled[r].N[0], pooled[r].Od.Count, pooled[r].Md.Count,
            RangeRoundTrip.Median(pooled[r].Od), RangeRoundTrip.Median(pooled[r].Md),
            pooled[r].Oi.Count > 0 ? pooled[r].Oi.Average() : double.NaN, pooled[r].Mi.Count > 0 ? pooled[r].Mi.Average() : double.NaN)).ToList();
    }
}
