using System.Text.Json;
using Pipeline.Cli;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;
using Pipeline.Metrics;
using Pipeline.Metrics.Report;

namespace Pipeline.Cli.Tests;

/// <summary><c>pipeline metrics ...</c> and <c>pipeline report ...</c> end to end through the command line parser.</summary>
[Collection("Console")]
public class MetricsCommandsTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("pipeline-cli-metrics-");

    public void Dispose() => _dir.Delete(true);

    private static Task<(int Code, string Out, string Err)> RunAsync(params string[] args) => CliConsole.RunAsync(args);

    private string Png(string name, int w, int h, Func<int, int, byte> f)
    {
        var px = new byte[w * h];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) px[y * w + x] = f(x, y);
        using var img = ImageBuffer.FromSamples<byte>(w, h, 1, px);
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllBytes(path, PngCodec.Encode(img));
        return path;
    }

    [Fact]
    public async Task Ssim_and_psnr_print_json_with_the_definition_version()
    {
        var a = Png("a.png", 40, 30, (x, y) => (byte)(x * 5 + y));
        var b = Png("b.png", 40, 30, (x, y) => (byte)(x * 5 + y + (x % 3)));
        var m = Png("m.png", 40, 30, (x, y) => (byte)(x > 20 ? 255 : 0));
        var (code, stdout, stderr) = await RunAsync("metrics", "ssim", a, b, "--mask", m);
        Assert.True(code == ExitCodes.Ok, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal("ssim", doc.RootElement.GetProperty("metric").GetString());
        Assert.StartsWith("ssim/1 border=skimage", doc.RootElement.GetProperty("version").GetString());
        Assert.Equal(255, doc.RootElement.GetProperty("dataRange").GetDouble());
        Assert.InRange(doc.RootElement.GetProperty("whole").GetDouble(), 0.5, 0.9999);
        Assert.Equal(JsonValueKind.Number, doc.RootElement.GetProperty("inside").ValueKind);

        (code, stdout, _) = await RunAsync("metrics", "psnr", a, a, "--data-range", "255");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("Infinity", stdout);
    }

    [Fact]
    public async Task Mismatched_images_are_a_usage_error_naming_the_files()
    {
        var a = Png("a.png", 40, 30, (x, y) => 1);
        var b = Png("small.png", 20, 30, (x, y) => 1);
        var (code, _, stderr) = await RunAsync("metrics", "ssim", a, b);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("small.png", stderr);
    }

    [Fact]
    public async Task Report_command_writes_json_and_html_from_the_run_report_model()
    {
        var runDir = Directory.CreateDirectory(Path.Combine(_dir.FullName, "runs", "run-1"));
        using var thumb = ImageBuffer.FromSamples<byte>(8, 8, 1, Enumerable.Range(0, 64).Select(i => (byte)(i * 4)).ToArray());
        var model = new RunReportModel
        {
            RunId = "run-1",
            Definitions = [MetricDefinitions.Mse],
            Items =
            [
                new ItemReport { ItemId = "i1", Class = "mass", Metrics = [new MetricValue("mse", "whole", 1.5, MetricDefinitions.MseVersion)], Thumbnails = [new ReportImage("result", "image/png", PngCodec.Encode(thumb))] },
                new ItemReport { ItemId = "i2", Succeeded = false, Error = "decode failed" },
            ],
        };
        await File.WriteAllTextAsync(Path.Combine(runDir.FullName, "report-model.json"), JsonSerializer.Serialize(model, RunReport.JsonOptions));
        var (code, stdout, stderr) = await RunAsync("report", "run-1", "--runs", Path.Combine(_dir.FullName, "runs"));
        Assert.True(code == ExitCodes.Failures, $"{code}: {stderr}"); // one item failed
        var report = RunReport.FromJson(await File.ReadAllTextAsync(Path.Combine(runDir.FullName, "report.json")));
        Assert.Equal(1, report.Summary.Failed);
        var html = await File.ReadAllTextAsync(Path.Combine(runDir.FullName, "report.html"));
        Assert.Contains("data:image/png;base64,", html);
        Assert.Contains("decode failed", html);

        (code, _, stderr) = await RunAsync("report", "no-such-run", "--runs", Path.Combine(_dir.FullName, "runs"));
        Assert.Equal(ExitCodes.NotFound, code);
        Assert.Contains("no-such-run", stderr);
    }
}
