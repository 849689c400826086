using System.Runtime.InteropServices;
using System.Text.Json;
using Pipeline.Metrics.Pixel;

namespace Pipeline.Metrics.Tests;

/// <summary>The texture measure against data/texture/make_texture_vectors.py (an independent numpy/scipy reference,
/// whole-image filter) and on the constructed cases it exists for: a smooth square in fibrous tissue scores high,
/// untouched tissue and a lesion added onto it low.</summary>
public class TextureMeasureTests
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "data", "texture");
    private static readonly Lazy<JsonElement> Vectors = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "texture.json"))).RootElement);

    private static (float[] Image, int Width, int Height, SeamBox Box, JsonElement Expected) Load(string name)
    {
        var root = Vectors.Value;
        var c = root.GetProperty("cases").GetProperty(name);
        var b = c.GetProperty("box").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var image = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(Dir, name + ".f32"))).ToArray();
        return (image, root.GetProperty("width").GetInt32(), root.GetProperty("height").GetInt32(), new SeamBox(b[0], b[1], b[2], b[3]), c);
    }

    [Fact]
    public void Default_options_are_the_ones_the_vectors_were_made_with()
    {
        var o = Vectors.Value.GetProperty("options");
        Assert.Equal(o.GetProperty("sigma").GetDouble(), TextureOptions.Default.Sigma);
        Assert.Equal(o.GetProperty("ring").GetInt32(), TextureOptions.Default.RingWidth);
        Assert.Equal(o.GetProperty("floor").GetDouble(), TextureOptions.Default.EnergyFloor);
    }

    [Theory]
    [InlineData("untouched")]
    [InlineData("smooth_square")]
    [InlineData("lesion_on_tissue")]
    [InlineData("smooth_at_corner")]
    public void Matches_the_numpy_reference(string name)
    {
        var (image, w, h, box, expected) = Load(name);
        var r = TextureMeasure.Compute(image, w, h, box) ?? throw new InvalidOperationException("no ring");
        Assert.Equal(expected.GetProperty("inside").GetDouble(), r.InsideRms, 1e-9);
        Assert.Equal(expected.GetProperty("ring").GetDouble(), r.RingRms, 1e-9);
        Assert.Equal(expected.GetProperty("texture").GetDouble(), r.Texture, 1e-7);
    }

    [Fact]
    public void A_smooth_square_scores_far_above_the_untouched_tissue_and_a_lesion_on_it_does_not()
    {
        double T(string name) { var (i, w, h, b, _) = Load(name); return TextureMeasure.Compute(i, w, h, b)!.Value.Texture; }
        Assert.True(T("smooth_square") > 10 * T("untouched"));
        Assert.True(T("lesion_on_tissue") < 1.5 * T("untouched"));
    }

    [Fact]
    public void Bad_input_is_refused_with_the_reason()
    {
        var image = new float[20 * 10];
        Assert.Contains("inside", Assert.Throws<ArgumentOutOfRangeException>(() => TextureMeasure.Compute(image, 20, 10, new SeamBox(15, 2, 8, 4))).Message);
        image[3] = float.NaN;
        Assert.Contains("non-finite", Assert.Throws<ArgumentException>(() => TextureMeasure.Compute(image, 20, 10, new SeamBox(5, 2, 8, 4))).Message);
        Assert.Null(TextureMeasure.Compute(new float[4 * 3], 4, 3, new SeamBox(0, 0, 4, 3)));
    }
}
