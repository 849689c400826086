using System.Text.Json;
using Pipeline.Metrics.Features;
using Pipeline.Metrics.Pixel;

namespace Pipeline.Metrics.Tests;

/// <summary>
/// The committed drive-net export (training/feature_models/drive-net*, the driving demo's feature network) against the
/// PyTorch network with its committed weights: features and LPIPS (numpy formula) on fixed patches, from
/// data/features/make_drive_net_vectors.py.
/// </summary>
public class DriveNetTests
{
    private static string Models => Path.Combine(AppContext.BaseDirectory, "feature_models");
    private static readonly Lazy<JsonElement> Vectors = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "features", "drive_net_vectors.json"))).RootElement);

    private static FeatureImage Patch(string set, int index, int channels) =>
        new(Vectors.Value.GetProperty(set)[index].EnumerateArray().Select(v => (float)v.GetDouble()).ToArray(), new PlaneShape(32, 32, channels), $"{set} {index}");

    [Fact]
    public void Features_and_embedding_match_torch()
    {
        foreach (var folder in new[] { "drive-net", "drive-net-embed" })
        {
            using var net = FeatureNetwork.Open(Path.Combine(Models, folder));
            var images = Enumerable.Range(0, 3).Select(i => Patch("camera", i, 3)).ToList();
            var got = net.Extract(images);
            var want = Vectors.Value.GetProperty("features").EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(v => v.GetDouble()).ToArray();
            Assert.Equal(want.Length, got.Length);
            double diff = 0, norm = 0;
            for (int i = 0; i < want.Length; i++) { diff += (want[i] - got[i]) * (want[i] - got[i]); norm += want[i] * want[i]; }
            Assert.True(Math.Sqrt(diff / norm) <= 1e-5, $"{folder}: relative difference {Math.Sqrt(diff / norm):E2}");
        }
        using var features = FeatureNetwork.Open(Path.Combine(Models, "drive-net"));
        Assert.Equal("FD[drive-net]", features.MetricName("FD"));
    }

    [Fact]
    public void Lpips_and_depth_lpips_match_the_torch_formula()
    {
        using var net = FeatureNetwork.Open(Path.Combine(Models, "drive-net-lpips"));
        foreach (var pair in Vectors.Value.GetProperty("lpips").EnumerateArray())
        {
            var got = Lpips.Compute(net, Patch("camera", pair.GetProperty("a").GetInt32(), 3), Patch("camera", pair.GetProperty("b").GetInt32(), 3));
            GoldenData.AssertRelative(pair.GetProperty("value").GetDouble(), got, 1e-5, "LPIPS[drive-net]");
        }
        double depth = RangeViewLpips.Compute(net, RangeViewLpips.Channel.Depth, Patch("depth", 0, 1), Patch("depth", 1, 1));
        GoldenData.AssertRelative(Vectors.Value.GetProperty("depthLpips").GetDouble(), depth, 1e-5, "D-LPIPS[drive-net]");
        Assert.Equal("D-LPIPS[drive-net]", RangeViewLpips.MetricName(RangeViewLpips.Channel.Depth, net));
    }
}
