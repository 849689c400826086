using Pipeline.Inference.Packages;
using Pipeline.Inference.Sampling;
using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Tests.Sampling;

public class SamplerBehaviourTests
{
    internal static readonly CreateScheduler Schedulers = SchedulerFactory.Create;

    internal static InpaintingItem MakeItem(ModelPackage p, ulong id)
    {
        var rng = new System.Random((int)id * 7919 + 1);
        int res = p.Resolution, c = p.ImageChannels, rs = p.Reference.Size, rc = p.Reference.Channels;
        var ctx = Enumerable.Range(0, c * res * res).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var mask = new float[res * res];
        int x0 = res / 4 + (int)(id % 3), y0 = res / 4, w = res / 2;
        for (var y = y0; y < y0 + w; y++) for (var x = x0; x < x0 + w; x++) mask[y * res + x] = 1;
        var reference = Enumerable.Range(0, rc * rs * rs).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var hf = Enumerable.Range(0, c * res * res).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        return new InpaintingItem(id, ctx, mask, reference, hf);
    }

    public static TheoryData<string> Packages => new() { "pixel_blend", "pixel_inpaint", "latent_inpaint" };

    [Theory]
    [MemberData(nameof(Packages))]
    public async Task Same_item_is_bit_identical_at_batch_sizes_1_3_8_and_across_runs(string name)
    {
        var package = await ModelPackage.LoadAsync(Path.Combine(TestModels.Root, name));
        using var model = InpaintingModel.Open(package);
        var sampler = new InpaintingSampler(model, Schedulers);
        var items = Enumerable.Range(0, 8).Select(i => MakeItem(package, (ulong)(100 + i))).ToArray();
        var opts = new SamplingOptions { Scheduler = "ddim", Steps = 6, GuidanceScale = 2.5, Eta = 0.5, Seed = 1234 };
        var b1 = await sampler.SampleAsync(items, opts with { MaxBatchSize = 1 });
        var b3 = await sampler.SampleAsync(items, opts with { MaxBatchSize = 3 });
        var b8 = await sampler.SampleAsync(items, opts with { MaxBatchSize = 8 });
        var again = await sampler.SampleAsync(items, opts with { MaxBatchSize = 8 });
        var reversed = await sampler.SampleAsync(items.Reverse().ToArray(), opts with { MaxBatchSize = 3 });
        for (var i = 0; i < items.Length; i++)
        {
            Assert.Equal(b1[i], b3[i]);
            Assert.Equal(b1[i], b8[i]);
            Assert.Equal(b1[i], again[i]);
            Assert.Equal(b1[i], reversed[items.Length - 1 - i]);
        }
        Assert.NotEqual(b1[0], b1[1]);
        Assert.All(b1, img => Assert.All(img, v => Assert.True(float.IsFinite(v))));
    }

    [Fact]
    public async Task Different_seed_changes_the_output()
    {
        var package = await ModelPackage.LoadAsync(TestModels.PixelInpaint);
        using var model = InpaintingModel.Open(package);
        var sampler = new InpaintingSampler(model, Schedulers);
        var item = MakeItem(package, 5);
        var a = await sampler.SampleAsync([item], new SamplingOptions { Scheduler = "ddim", Steps = 4, Seed = 1 });
        var b = await sampler.SampleAsync([item], new SamplingOptions { Scheduler = "ddim", Steps = 4, Seed = 2 });
        Assert.NotEqual(a[0], b[0]);
    }

    [Fact]
    public async Task Blend_mode_keeps_the_known_region_exactly()
    {
        var package = await ModelPackage.LoadAsync(TestModels.PixelBlend);
        using var model = InpaintingModel.Open(package);
        var sampler = new InpaintingSampler(model, Schedulers);
        var item = MakeItem(package, 9);
        var img = (await sampler.SampleAsync([item], new SamplingOptions { Scheduler = "ddim", Steps = 5, Seed = 3, RePaint = new RePaintOptions(2, 3) }))[0];
        for (var k = 0; k < img.Length; k++)
            if (item.Mask[k] == 0) Assert.Equal(item.Context[k], img[k]);
        Assert.Contains(Enumerable.Range(0, img.Length), k => item.Mask[k] == 1 && img[k] != item.Context[k]);
    }

    [Fact]
    public async Task Progress_is_reported_per_evaluation_and_cancellation_stops_the_loop()
    {
        var package = await ModelPackage.LoadAsync(TestModels.PixelBlend);
        using var model = InpaintingModel.Open(package);
        var sampler = new InpaintingSampler(model, Schedulers);
        var items = new[] { MakeItem(package, 1), MakeItem(package, 2), MakeItem(package, 3) };
        var reports = new List<SamplingProgress>();
        var progress = new SyncProgress(reports.Add);
        await sampler.SampleAsync(items, new SamplingOptions { Scheduler = "ddim", Steps = 7, MaxBatchSize = 2, Progress = progress, RePaint = new RePaintOptions(3, 2) });
        // 7 steps, boundaries after steps 3 and 6: each redoes 3 steps once -> 13 evaluations per batch, 2 batches.
        Assert.Equal(26, reports.Count);
        Assert.All(reports, r => Assert.Equal(13, r.IterationsPerBatch));
        Assert.Equal(new SamplingProgress(1, 2, 1, 13, 13), reports[^1]);

        using var cts = new CancellationTokenSource();
        var cancelling = new SyncProgress(r => { if (r.Iteration == 2) cts.Cancel(); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            sampler.SampleAsync(items, new SamplingOptions { Scheduler = "ddim", Steps = 7, Progress = cancelling }, cts.Token));
    }

    [Fact]
    public async Task Bad_item_inputs_are_clear_exceptions_naming_the_item()
    {
        var package = await ModelPackage.LoadAsync(TestModels.PixelInpaint);
        using var model = InpaintingModel.Open(package);
        var sampler = new InpaintingSampler(model, Schedulers);
        var good = MakeItem(package, 77);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => sampler.SampleAsync([good with { Context = new float[10] }], new SamplingOptions { Scheduler = "ddim" }));
        Assert.Contains("Item 77", e.Message);
        Assert.Contains("context", e.Message);
        e = await Assert.ThrowsAsync<ArgumentException>(() => sampler.SampleAsync([good with { DetailMap = null }], new SamplingOptions { Scheduler = "ddim" }));
        Assert.Contains("detail map", e.Message);
        var nan = (float[])good.Reference.Clone(); nan[3] = float.NaN;
        e = await Assert.ThrowsAsync<ArgumentException>(() => sampler.SampleAsync([good with { Reference = nan }], new SamplingOptions { Scheduler = "ddim" }));
        Assert.Contains("non-finite", e.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => sampler.SampleAsync([good], new SamplingOptions { Scheduler = "ddim", RePaint = new RePaintOptions() }));
    }

    private sealed class SyncProgress(Action<SamplingProgress> report) : IProgress<SamplingProgress>
    {
        public void Report(SamplingProgress value) => report(value);
    }
}
