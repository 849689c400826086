using Pipeline.Cli;

namespace Pipeline.Cli.Tests.Driving;

/// <summary><c>pipeline synth driving</c>, <c>pipeline dataset validate</c>, <c>pipeline scene render|roundtrip</c> through the parser.</summary>
[Collection("Console")]
public class DrivingCommandsTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("pipeline-cli-driving-");

    public void Dispose() => _dir.Delete(true);

    private static Task<(int Code, string Out, string Err)> RunAsync(params string[] args) => CliConsole.RunAsync(args);

    [Fact]
    public async Task Synth_validate_render_and_roundtrip_a_driving_dataset()
    {
        var data = Path.Combine(_dir.FullName, "scenes");
        var (code, output, error) = await RunAsync("synth", "driving", "--scenes", "1", "--samples", "2", "--width", "160", "--height", "90", "--seed", "5", "--out", data);
        Assert.True(code == 0, error);
        Assert.Contains("wrote 1 scenes, 2 samples", output);
        Assert.True(File.Exists(Path.Combine(data, "v1.0-synthetic", "sample_annotation.json")));

        (code, output, error) = await RunAsync("dataset", "validate", data);
        Assert.True(code == 0, output + error);
        Assert.Contains("splits: samples 2, scenes 1", output);

        var pictures = Path.Combine(_dir.FullName, "pictures");
        (code, output, error) = await RunAsync("scene", "render", data, "scene-0000:1", "--out", pictures);
        Assert.True(code == 0, error);
        foreach (var f in new[] { "camera.png", "range-depth.png", "range-intensity.png", "bev.png" }) Assert.True(File.Exists(Path.Combine(pictures, f)), f);

        (code, _, error) = await RunAsync("scene", "render", data, "no-such-sample", "--out", pictures);
        Assert.Equal(ExitCodes.NotFound, code);
        Assert.Contains("no sample 'no-such-sample'", error);

        var json = Path.Combine(_dir.FullName, "roundtrip.json");
        (code, output, error) = await RunAsync("scene", "roundtrip", data, "--all-objects", "--resolution", "512", "--json", json);
        Assert.True(code == 0, error);
        var row = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json)).RootElement[0];
        Assert.Equal(512, row.GetProperty("Resolution").GetInt32());
        Assert.True(row.GetProperty("Objects").GetInt32() > 0);
        Assert.True(row.GetProperty("MedianDepthErrorObject").GetDouble() < 1e-4);
    }

    [Fact]
    public async Task Synth_driving_refuses_bad_sizes()
    {
        var (code, _, error) = await RunAsync("synth", "driving", "--width", "4", "--out", Path.Combine(_dir.FullName, "x"));
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("camera size", error);
    }
}
