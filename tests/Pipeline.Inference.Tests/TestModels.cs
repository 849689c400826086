namespace Pipeline.Inference.Tests;

/// <summary>Paths of the tiny test model packages copied next to the test assembly.</summary>
public static class TestModels
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "test_models");
    public static string PixelBlend => Path.Combine(Root, "pixel_blend");
    public static string PixelInpaint => Path.Combine(Root, "pixel_inpaint");
    public static string LatentInpaint => Path.Combine(Root, "latent_inpaint");
    public static string Data(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "data", .. parts]);
}
