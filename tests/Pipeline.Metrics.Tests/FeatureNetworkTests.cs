using System.Text.Json;
using Pipeline.Metrics.Distribution;
using Pipeline.Metrics.Features;
using Pipeline.Metrics.Pixel;

namespace Pipeline.Metrics.Tests;

public class FeatureNetworkTests
{
    private static string Models => Path.Combine(AppContext.BaseDirectory, "feature_models");
    private static string Data => Path.Combine(AppContext.BaseDirectory, "data", "features");
    private static readonly Lazy<JsonElement> Golden = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Data, "feature_golden.json"))).RootElement);

    private static FeatureImage Image(string name)
    {
        var info = Golden.Value.GetProperty("images").GetProperty(name);
        var shape = new PlaneShape(info.GetProperty("width").GetInt32(), info.GetProperty("height").GetInt32(), info.GetProperty("channels").GetInt32());
        var pixels = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(Data, name + ".f32"))).ToArray();
        return new FeatureImage(pixels, shape, name);
    }

    private static void AssertVector(JsonElement expected, ReadOnlySpan<float> actual, string what)
    {
        var e = expected.EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(e.Length, actual.Length);
        double diff = 0, norm = 0;
        for (int i = 0; i < e.Length; i++) { diff += (e[i] - actual[i]) * (e[i] - actual[i]); norm += e[i] * e[i]; }
        double rel = Math.Sqrt(diff / norm);
        Assert.True(rel <= 1e-5, $"{what}: relative difference {rel:E2} from the torch reference");
    }

    [Fact]
    public void Tiny_feature_network_matches_torch_including_resize_and_gray_tiling()
    {
        using var net = FeatureNetwork.Open(Path.Combine(Models, "tiny-feat"));
        Assert.Equal("FD[tiny-feat]", net.MetricName("FD"));
        var names = Golden.Value.GetProperty("features").EnumerateObject().Select(p => p.Name).ToList();
        var features = net.Extract(names.Select(Image).ToList());
        for (int i = 0; i < names.Count; i++)
            AssertVector(Golden.Value.GetProperty("features").GetProperty(names[i]), features.AsSpan(i * 16, 16), $"features of {names[i]}");
    }

    [Fact]
    public void Lpips_and_range_view_lpips_match_the_torch_formula()
    {
        using var net = FeatureNetwork.Open(Path.Combine(Models, "tiny-lpips"));
        foreach (var pair in Golden.Value.GetProperty("lpips").EnumerateArray())
        {
            string a = pair.GetProperty("a").GetString()!, b = pair.GetProperty("b").GetString()!;
            double expected = pair.GetProperty("value").GetDouble();
            double got = a.StartsWith("depth")
                ? RangeViewLpips.Compute(net, RangeViewLpips.Channel.Depth, Image(a), Image(b))
                : Lpips.Compute(net, Image(a), Image(b));
            if (expected == 0) Assert.Equal(0, got);
            else GoldenData.AssertRelative(expected, got, 1e-5, $"LPIPS {a} vs {b}");
        }
        Assert.Equal("D-LPIPS[tiny-lpips]", RangeViewLpips.MetricName(RangeViewLpips.Channel.Depth, net));
    }

    [Fact]
    public void Embedding_similarity_is_cosine_times_100_of_the_torch_embeddings()
    {
        using var net = FeatureNetwork.Open(Path.Combine(Models, "tiny-embed"));
        var pairs = Golden.Value.GetProperty("embedding").EnumerateArray().ToList();
        var gen = pairs.Select(p => Image(p.GetProperty("a").GetString()!)).ToList();
        var refs = pairs.Select(p => Image(p.GetProperty("b").GetString()!)).ToList();
        var sims = EmbeddingSimilarity.Compute(net, gen, refs);
        var emb = net.Extract(gen);
        for (int i = 0; i < pairs.Count; i++)
        {
            GoldenData.AssertRelative(pairs[i].GetProperty("value").GetDouble(), sims[i], 1e-5, $"cosine x100 pair {i}");
            AssertVector(Golden.Value.GetProperty("embeddings").GetProperty(gen[i].Name), emb.AsSpan(i * 12, 12), $"embedding of {gen[i].Name}");
        }
    }

    [Fact]
    public void Fd_over_tiny_features_is_zero_for_identical_sets_and_positive_otherwise()
    {
        using var net = FeatureNetwork.Open(Path.Combine(Models, "tiny-feat"));
        var rng = new Random(3);
        FeatureImage Noise(int i, double level) => new(Enumerable.Range(0, 24 * 24 * 3).Select(_ => (float)Math.Clamp(0.5 + level * (rng.NextDouble() - 0.5), 0, 1)).ToArray(), new PlaneShape(24, 24, 3), $"noise{i}");
        var a = Enumerable.Range(0, 40).Select(i => Noise(i, 0.4)).ToList();
        var b = Enumerable.Range(0, 40).Select(i => Noise(i, 1.0)).ToList();
        var fa = net.Extract(a);
        var fb = net.Extract(b);
        Assert.Equal(0, FrechetDistance.Compute(fa, 40, fa, 40, 16).Distance, 9);
        Assert.True(FrechetDistance.Compute(fa, 40, fb, 40, 16).Distance > 1e-4);
    }

    [Fact]
    public void Wrong_kind_bad_values_and_tampered_models_fail_clearly()
    {
        using var feat = FeatureNetwork.Open(Path.Combine(Models, "tiny-feat"));
        var img = Image("rgb0");
        Assert.Contains("kind lpips", Assert.Throws<InvalidOperationException>(() => Lpips.Compute(feat, img, img)).Message);
        var bad = new FeatureImage(new float[] { 0, 2, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f }, new PlaneShape(3, 3), "hot-pixel");
        var ex = Assert.Throws<ArgumentException>(() => feat.Extract([bad]));
        Assert.Contains("hot-pixel", ex.Message);
        Assert.Contains("[0, 1]", ex.Message);

        var dir = Directory.CreateTempSubdirectory("pipeline-feat-");
        try
        {
            foreach (var f in Directory.GetFiles(Path.Combine(Models, "tiny-feat"))) File.Copy(f, Path.Combine(dir.FullName, Path.GetFileName(f)));
            File.AppendAllText(Path.Combine(dir.FullName, "model.onnx"), " ");
            var e = Assert.Throws<InvalidDataException>(() => FeatureNetwork.Open(dir.FullName));
            Assert.Contains("SHA-256", e.Message);
            File.WriteAllText(Path.Combine(dir.FullName, "feature-model.json"), "{\"name\":\"x y\",\"kind\":\"features\",\"file\":\"model.onnx\",\"input\":{\"name\":\"image\",\"width\":32,\"height\":32,\"resize\":\"bicubic\",\"range\":[0,1],\"mean\":[0,0,0],\"std\":[1,1,1]}}");
            e = Assert.Throws<InvalidDataException>(() => FeatureNetwork.Open(dir.FullName));
            Assert.Contains("bicubic", e.Message);
            Assert.Contains("needs output", e.Message);
        }
        finally { dir.Delete(true); }
        Assert.Throws<FileNotFoundException>(() => FeatureNetwork.Open(Path.Combine(Models, "no-such-model")));
    }
}
