using Pipeline.Imaging.Preprocessing;
using Pipeline.Inference.Packages;
using Pipeline.Inference.Sampling;
using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Tests.Training;

/// <summary>
/// Samples a package the training job exported through the C# loader and sampler (ONNX Runtime), on a synthetic
/// reinsertion-style item: a flat tissue context, a box, and a reference holding a bright round lesion on the same
/// background. What the job's model must do: keep the context outside the box and put a lesion resembling the
/// reference inside it.
/// </summary>
internal static class TrainedPackageSampling
{
    public const float Background = -0.2f;   // model space
    public const float Lesion = 0.8f;

    public static (InpaintingItem Item, int X0, int Y0, int X1, int Y1) MakeItem(ModelPackage p, ulong id)
    {
        int r = p.Resolution, s = p.Reference.Size;
        Assert.Equal(1, p.ImageChannels);
        int x0 = r * 11 / 32, y0 = r * 11 / 32, x1 = r * 21 / 32, y1 = r * 21 / 32;   // 20 px box at 64 px
        var context = new float[r * r];
        var mask = new float[r * r];
        for (var y = 0; y < r; y++)
            for (var x = 0; x < r; x++)
            {
                var inBox = x >= x0 && x < x1 && y >= y0 && y < y1;
                mask[y * r + x] = inBox ? 1 : 0;
                context[y * r + x] = inBox ? 0 : Background;
            }

        // reference: the box expanded by 1.2 and squared (docs/preprocessing.md), a disc filling ~70% of the box
        var reference = new float[s * s];
        double c = (s - 1) / 2.0, radius = s / 1.2 * 0.35;
        for (var y = 0; y < s; y++)
            for (var x = 0; x < s; x++)
                reference[y * s + x] = Math.Sqrt((x - c) * (x - c) + (y - c) * (y - c)) <= radius ? Lesion : Background;
        // the detail map a run computes from this reference (docs/preprocessing.md, "High-frequency (detail) map"): the
        // HF map of the display-space crop collaged into the box, so the disc's rim is there as a run would give it
        var display = Array.ConvertAll(reference, v => (v + 1f) / 2f);
        var support = new byte[s * s];
        Array.Fill(support, (byte)1);
        var hf = new float[s * s];
        HighFrequencyMap.Compute(display, support, s, hf);
        var detail = new float[r * r];
        HighFrequencyMap.Collage(hf, s, PixelRect.FromCorners(x0, y0, x1, y1), r, detail);
        return (new InpaintingItem(id, context, mask, reference, detail), x0, y0, x1, y1);
    }

    public static async Task AssertInsertsTheReferenceAsync(string packageDir, int steps)
    {
        var package = await ModelPackage.LoadAsync(packageDir);
        using var model = InpaintingModel.Open(package);
        var sampler = new InpaintingSampler(model, SchedulerFactory.Create);
        var (item, x0, y0, x1, y1) = MakeItem(package, 42);
        var images = await sampler.SampleAsync([item], new SamplingOptions { Steps = steps, Seed = 7 });
        var img = images[0];
        int r = package.Resolution;
        Assert.Equal(r * r, img.Length);
        Assert.All(img, v => Assert.True(float.IsFinite(v)));
        double centre = 0, corners = 0, outside = 0;
        int nc = 0, nk = 0, no = 0;
        int cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
        for (var y = 0; y < r; y++)
            for (var x = 0; x < r; x++)
            {
                var v = img[y * r + x];
                if (x < x0 - 3 || x >= x1 + 3 || y < y0 - 3 || y >= y1 + 3) { outside += Math.Abs(v - Background); no++; }
                else if (Math.Abs(x - cx) <= 2 && Math.Abs(y - cy) <= 2) { centre += v; nc++; }
                else if (x >= x0 && x < x1 && y >= y0 && y < y1 && Math.Abs(x - cx) >= 8 && Math.Abs(y - cy) >= 8) { corners += v; nk++; }
            }

        centre /= nc; corners /= nk; outside /= no;
        Assert.True(centre - corners > 0.4, $"no lesion in the box: centre {centre:F3}, box corners {corners:F3}");
        Assert.True(outside < 0.15, $"context not kept outside the box: mean |out - context| = {outside:F3}");
    }
}
