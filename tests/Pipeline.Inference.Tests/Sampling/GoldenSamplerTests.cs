using System.Text.Json;
using Pipeline.Inference.Packages;
using Pipeline.Inference.Sampling;
using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Tests.Sampling;

/// <summary>
/// The C# sampler running the exported ONNX models against a PyTorch reference loop over the same networks, noise,
/// schedulers (float64 Python reference), guidance and inpainting rules (data/sampling/make_golden.py).
/// </summary>
public class GoldenSamplerTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;
    private static readonly Lazy<JsonDocument> Golden = new(() => JsonDocument.Parse(File.ReadAllText(TestModels.Data("sampling", "golden_sampler.json"))));

    public static TheoryData<int> Cases()
    {
        var data = new TheoryData<int>();
        var n = Golden.Value.RootElement.GetProperty("cases").GetArrayLength();
        for (var i = 0; i < n; i++) data.Add(i);
        return data;
    }

    private static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Sampler_matches_the_pytorch_reference_loop(int index)
    {
        var root = Golden.Value.RootElement;
        var c = root.GetProperty("cases")[index];
        var name = c.GetProperty("package").GetString()!;
        var scheduler = c.GetProperty("scheduler").GetString()!;
        var package = await ModelPackage.LoadAsync(Path.Combine(TestModels.Root, name));
        using var model = InpaintingModel.Open(package);
        var items = root.GetProperty("items").GetProperty(name).EnumerateArray().Select(i => new InpaintingItem(
            i.GetProperty("id").GetUInt64(), Floats(i.GetProperty("context")), Floats(i.GetProperty("mask")),
            Floats(i.GetProperty("reference")), Floats(i.GetProperty("hf")))).ToArray();
        var repaint = c.GetProperty("repaint");
        var options = new SamplingOptions
        {
            Scheduler = scheduler, Steps = c.GetProperty("steps").GetInt32(), GuidanceScale = c.GetProperty("guidance").GetDouble(),
            Eta = c.GetProperty("eta").GetDouble(), Seed = root.GetProperty("seed").GetUInt64(), MaxBatchSize = 2,
            RePaint = repaint.ValueKind == JsonValueKind.Null ? null : new RePaintOptions(repaint[0].GetInt32(), repaint[1].GetInt32()),
        };
        var outputs = await new InpaintingSampler(model, SchedulerFactory.Create).SampleAsync(items, options);
        var expected = c.GetProperty("outputs").EnumerateArray().Select(Floats).ToArray();
        for (var i = 0; i < items.Length; i++)
        {
            Assert.Equal(expected[i].Length, outputs[i].Length);
            var maxAbs = expected[i].Zip(outputs[i], (e, a) => Math.Abs((double)e - a)).Max();
            output.WriteLine($"{name}/{scheduler} item {items[i].ItemId}: max abs difference {maxAbs:G3}");
            Assert.True(maxAbs <= Tolerance, $"{name}/{scheduler} item {items[i].ItemId}: max abs difference {maxAbs:G3} > {Tolerance}");
        }
    }
}

