using System.Runtime.InteropServices;
using System.Text.Json;
using Pipeline.Metrics.Pixel;

namespace Pipeline.Metrics.Tests;

/// <summary>The detail measure against data/texture/make_texture_vectors.py (an independent numpy/scipy reference on the
/// whole image): a box replaced by its own low-pass keeps about a quarter of the source's fine detail, a lesion added
/// onto the tissue all of it, the untouched image exactly all of it.</summary>
public class DetailMeasureTests
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "data", "texture");
    private static readonly Lazy<JsonElement> Vectors = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "texture.json"))).RootElement);

    private static float[] Image(string name) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(Dir, name + ".f32"))).ToArray();

    [Theory]
    [InlineData("smooth_square")]
    [InlineData("lesion_on_tissue")]
    [InlineData("untouched")]
    public void Matches_the_numpy_reference(string name)
    {
        var root = Vectors.Value;
        var c = root.GetProperty("detail").GetProperty(name);
        var b = c.GetProperty("box").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int w = root.GetProperty("width").GetInt32(), h = root.GetProperty("height").GetInt32();
        var d = DetailMeasure.Compute(Image(name), Image(c.GetProperty("source").GetString()!), w, h, new SeamBox(b[0], b[1], b[2], b[3]));
        Assert.NotNull(d);
        Assert.Equal(c.GetProperty("detail").GetDouble(), d!.Value, 1e-7);
    }

    [Fact]
    public void A_smoothed_box_scores_well_below_zero()
    {
        var root = Vectors.Value;
        int w = root.GetProperty("width").GetInt32(), h = root.GetProperty("height").GetInt32();
        var d = DetailMeasure.Compute(Image("smooth_square"), Image("untouched"), w, h, new SeamBox(30, 24, 28, 22))!.Value;
        Assert.True(d < -1.0, $"detail {d}");
    }

    [Fact]
    public void Images_of_different_sizes_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => DetailMeasure.Compute(new float[20 * 10], new float[20 * 11], 20, 10, new SeamBox(2, 2, 4, 4)));
        Assert.Contains("same image size", e.Message);
    }

    [Fact]
    public void A_box_covering_the_whole_image_has_no_value()
    {
        var img = new float[8 * 8];
        Assert.Null(DetailMeasure.Compute(img, img, 8, 8, new SeamBox(0, 0, 8, 8)));
    }
}
