using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;

namespace Pipeline.Cli.Tests.Inference;

public sealed class InferenceCommandTests : IDisposable
{
    private static readonly string Repo = FindRepo();
    private readonly string _temp = Directory.CreateTempSubdirectory("cli-inference-").FullName;

    private static string FindRepo()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Pipeline.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }

    private static string Model(string name) => Path.Combine(Repo, "training", "test_models", name);

    public void Dispose() => Directory.Delete(_temp, true);

    private static Task<int> Run(params string[] args) => Program.BuildRoot().Parse(args).InvokeAsync();

    private string Png(string name, int size, Func<int, int, byte> value)
    {
        var px = new byte[size * size];
        for (var y = 0; y < size; y++) for (var x = 0; x < size; x++) px[y * size + x] = value(x, y);
        using var img = ImageBuffer.FromSamples<byte>(size, size, 1, px);
        var path = Path.Combine(_temp, name);
        File.WriteAllBytes(path, PngCodec.Encode(img));
        return path;
    }

    [Fact]
    public async Task Model_inspect_verifies_a_package_and_reports_missing_ones()
    {
        Assert.Equal(ExitCodes.Ok, await Run("model", "inspect", Model("latent_inpaint")));
        Assert.Equal(ExitCodes.NotFound, await Run("model", "inspect", Path.Combine(_temp, "nope")));
    }

    [Fact]
    public async Task Sample_writes_a_deterministic_png_at_the_model_resolution()
    {
        var ctx = Png("c.png", 40, (x, y) => (byte)(x * 6));
        var mask = Png("m.png", 40, (x, y) => x is > 10 and < 30 && y is > 10 and < 30 ? (byte)255 : (byte)0);
        var reference = Png("r.png", 16, (x, y) => (byte)(y * 15));
        var hf = Png("hf.png", 16, (x, y) => (byte)((x + y) % 7 * 10));
        string[] common = ["sample", "--model", Model("pixel_inpaint"), "--context", ctx, "--mask", mask, "--reference", reference, "--hf", hf,
            "--scheduler", "dpmpp2m", "--steps", "6", "--guidance", "2.5", "--seed", "9"];
        var a = Path.Combine(_temp, "a.png");
        var b = Path.Combine(_temp, "b.png");
        Assert.Equal(ExitCodes.Ok, await Run([.. common, "-o", a]));
        Assert.Equal(ExitCodes.Ok, await Run([.. common, "-o", b]));
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        using var img = PngCodec.Decode(File.ReadAllBytes(a));
        Assert.Equal((16, 16, 1, PixelType.UInt16), (img.Width, img.Height, img.Channels, img.PixelType));
    }

    [Fact]
    public async Task Sample_derives_the_detail_map_from_the_reference_when_hf_is_absent()
    {
        var ctx = Png("c.png", 40, (x, y) => (byte)(x * 6));
        var mask = Png("m.png", 40, (x, y) => x is > 10 and < 30 && y is > 10 and < 30 ? (byte)255 : (byte)0);
        var reference = Png("r.png", 16, (x, y) => (byte)(y * 15));
        var flat = Png("flat.png", 16, (x, y) => 120);
        string[] common = ["sample", "--model", Model("pixel_inpaint"), "--context", ctx, "--mask", mask, "--steps", "4", "--seed", "3"];
        var a = Path.Combine(_temp, "derived-a.png");
        var b = Path.Combine(_temp, "derived-b.png");
        Assert.Equal(ExitCodes.Ok, await Run([.. common, "--reference", reference, "-o", a]));
        Assert.Equal(ExitCodes.Ok, await Run([.. common, "--reference", flat, "-o", b]));
        // A textured and a flat reference give different detail maps, hence different samples from the same noise.
        Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(b));

        // The derived map: the reference's HF map (flat: all zero, so -1 in model space) inside the mask's box, 0 outside.
        var flatPlane = Enumerable.Repeat(120f / 255f, 16 * 16).ToArray();
        var maskPlane = new float[16 * 16];
        for (int y = 4; y < 8; y++) for (int x = 5; x < 9; x++) maskPlane[y * 16 + x] = 1;
        var detail = Pipeline.Cli.Commands.SampleCommand.DetailMapFromReference(flatPlane, 16, maskPlane, 16);
        for (int i = 0; i < detail.Length; i++)
            Assert.Equal(maskPlane[i] == 1 ? -1f : 0f, detail[i]);
    }

    [Fact]
    public async Task Sample_rejects_bad_inputs_and_bad_repaint_spec()
    {
        var ctx = Png("c.png", 16, (x, y) => 100);
        var mask = Png("m.png", 16, (x, y) => 255);
        Assert.Equal(ExitCodes.Usage, await Run("sample", "--model", Model("pixel_blend"), "--context", ctx, "--mask", mask, "--reference", ctx, "--repaint", "x", "-o", Path.Combine(_temp, "o.png")));
        Assert.Equal(ExitCodes.Usage, await Run("sample", "--model", Model("pixel_blend"), "--context", Path.Combine(_temp, "none.png"), "--mask", mask, "--reference", ctx, "-o", Path.Combine(_temp, "o.png")));
    }
}
