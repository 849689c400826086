using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Imaging.Preprocessing;
using Pipeline.Imaging.Tests.Buffers;

namespace Pipeline.Imaging.Tests.Preprocessing;

/// <summary>
/// The C#-generated vectors of data/preprocess/, checked by an independent numpy/torch implementation (docs/preprocessing.md).
/// Normally compares a fresh computation with the committed files; with PIPELINE_REGENERATE_VECTORS=1 it rewrites
/// them in the source tree instead (see data/preprocess/README.md).
/// </summary>
public class PreprocessVectorTests
{
    private const int Width = 96, Height = 80, Resolution = 64, ReferenceSize = 32;

    private sealed record Case(string Name, BoxF Box, double Ratio, double Expand);

    // interior, leaving the image on each side, the 8-pixel minimum side, a float box, a crop larger than the image,
    // a box itself partly outside the image, a downscale (side > R) and an upscale (side < R)
    private static readonly Case[] Cases =
    [
        new("interior", new BoxF(40, 30, 52, 41), 3.0, 1.2),
        new("left_edge", new BoxF(2, 35, 14, 47), 3.5, 1.2),
        new("bottom_right", new BoxF(85, 70, 95, 79), 4.0, 1.3),
        new("tiny", new BoxF(50, 20, 51.5, 21), 3.0, 1.2),
        new("float_box", new BoxF(20.3, 10.7, 33.9, 19.2), 3.25, 1.25),
        new("larger_than_image", new BoxF(30, 20, 70, 60), 3.0, 1.2),
        new("partly_outside", new BoxF(-4, 60, 10, 86), 3.0, 1.3),
        new("upscale", new BoxF(60, 10, 68, 16), 3.0, 1.2),
    ];

    /// <summary>The fixed input: a smooth display-space image in [0, 1] with a bright blob and fine texture.</summary>
    private static float[] Input()
    {
        var img = new float[Width * Height];
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                double v = 0.25 + 0.2 * Math.Sin(x / 9.0) * Math.Cos(y / 7.0) + 0.1 * ((x * 7 + y * 13) % 5) / 5.0;
                double d2 = (x - 46) * (x - 46) + (y - 35) * (y - 35);
                v += 0.4 * Math.Exp(-d2 / 40.0);
                img[y * Width + x] = (float)Math.Clamp(v, 0, 1);
            }
        return img;
    }

    [Fact]
    public void Vectors_match_the_committed_files_or_are_regenerated()
    {
        bool regenerate = Environment.GetEnvironmentVariable("PIPELINE_REGENERATE_VECTORS") == "1";
        string dir = regenerate ? SourceDataDirectory() : Npy.DataPath("preprocess");
        var input = Input();
        var outputs = new Dictionary<string, float[]>();
        var meta = new JsonArray();
        foreach (var c in Cases)
        {
            var zoom = ZoomInCrop.Plan(Width, Height, c.Box, c.Ratio, Resolution);
            var crop = new float[Resolution * Resolution];
            zoom.Extract(input, Width, Height, crop);
            var model = new float[crop.Length];
            ModelSpace.FromDisplay(crop, model);
            var mask = zoom.Mask();
            var context = new float[crop.Length];
            ModelSpace.MaskedContext(model, mask, context);

            var reference = ReferenceCrop.Plan(Width, Height, c.Box, c.Expand, ReferenceSize);
            var refImage = new float[ReferenceSize * ReferenceSize];
            reference.Extract(input, Width, Height, refImage);
            var support = reference.SupportMask();
            var hf = new float[refImage.Length];
            HighFrequencyMap.Compute(refImage, support, ReferenceSize, hf);
            var collage = new float[crop.Length];
            HighFrequencyMap.Collage(hf, ReferenceSize, zoom.ModelBox, Resolution, collage);

            outputs[$"{c.Name}_crop"] = model;
            outputs[$"{c.Name}_mask"] = mask;
            outputs[$"{c.Name}_context"] = context;
            outputs[$"{c.Name}_reference"] = refImage;
            outputs[$"{c.Name}_support"] = support.Select(b => (float)b).ToArray();
            outputs[$"{c.Name}_hf"] = hf;
            outputs[$"{c.Name}_collage"] = collage;
            meta.Add(new JsonObject
            {
                ["name"] = c.Name,
                ["box"] = new JsonArray(c.Box.X0, c.Box.Y0, c.Box.X1, c.Box.Y1),
                ["r"] = c.Ratio,
                ["e"] = c.Expand,
                ["crop_rect"] = Rect(zoom.Crop),
                ["side"] = zoom.Side,
                ["crop_resize"] = zoom.Mode.ToString(),
                ["model_box"] = Rect(zoom.ModelBox),
                ["reference_rect"] = Rect(reference.Content),
                ["reference_side"] = reference.Side,
                ["reference_pad"] = new JsonArray(reference.PadLeft, reference.PadTop),
                ["reference_resize"] = reference.Mode.ToString(),
            });
        }
        var doc = new JsonObject
        {
            ["image"] = "input.npy",
            ["width"] = Width,
            ["height"] = Height,
            ["R"] = Resolution,
            ["S"] = ReferenceSize,
            ["rects_are"] = "[x0, y0, x1, y1) in pixels",
            ["arrays"] = "<name>_{crop,mask,context,collage}.npy are R x R model space ([-1,1]; mask 0/1); <name>_{reference,support,hf}.npy are S x S display space ([0,1]; support 0/1)",
            ["cases"] = meta,
        };
        string json = doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

        if (regenerate)
        {
            Npy.Save<float>(Path.Combine(dir, "input.npy"), input, Height, Width);
            foreach (var (name, data) in outputs)
                Npy.Save<float>(Path.Combine(dir, name + ".npy"), data, data.Length == Resolution * Resolution ? [Resolution, Resolution] : [ReferenceSize, ReferenceSize]);
            File.WriteAllText(Path.Combine(dir, "cases.json"), json + "\n");
            return;
        }
        Assert.Equal(Npy.Load("preprocess", "input.npy").Floats(), input);
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "cases.json")).TrimEnd(), json.TrimEnd());
        foreach (var (name, data) in outputs)
            ResampleTests.AssertClose(Npy.Load("preprocess", name + ".npy").Floats(), data, 1e-6f, name);
    }

    [Fact]
    public void Python_reimplementation_of_the_spec_agrees_with_the_vectors()
    {
        // data/preprocess/check_vectors.py implements docs/preprocessing.md independently in numpy + torch.
        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) return;
        var psi = new System.Diagnostics.ProcessStartInfo(python, [Npy.DataPath("preprocess", "check_vectors.py")])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0 && stderr.Contains("No module named")) return; // torch/numpy not installed here
        Assert.True(p.ExitCode == 0, stdout.Result + stderr);
    }

    private static JsonArray Rect(PixelRect r) => new(r.Left, r.Top, r.Right, r.Bottom);

    private static string SourceDataDirectory()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "tests", "Pipeline.Imaging.Tests", "data", "preprocess");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("tests/Pipeline.Imaging.Tests/data/preprocess not found above the test output directory");
    }
}
