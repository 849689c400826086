using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Pipeline.Functions.Tests;

/// <summary>The folder `dotnet publish` gives is what the Functions host in the images needs: the Dockerfiles copy
/// it, unchanged, to the script root /home/site/wwwroot.</summary>
public class PublishLayoutTests(PublishedApp published, ITestOutputHelper output) : IClassFixture<PublishedApp>
{
    private static readonly string[] Dockerfiles = ["functions-cpu.Dockerfile", "functions-gpu.Dockerfile"];

    private static string Dockerfile(string name) => File.ReadAllText(Path.Combine(FunctionsApp.RepoRoot, "infra", name));

    [Fact]
    public void Both_images_publish_the_same_way_and_copy_the_folder_to_the_script_root()
    {
        output.WriteLine($"{published.Command}: {published.Elapsed.TotalSeconds:F1} s");
        // the same arguments, except the ONNX Runtime package the GPU image chooses (-p:OnnxRuntimeFlavor=Gpu)
        static List<string> Common(IEnumerable<string> args) => args.Where(a => !a.StartsWith("-p:OnnxRuntimeFlavor=", StringComparison.Ordinal)).ToList();
        var cpu = Common(PublishedApp.DockerfilePublishArguments(Path.Combine(FunctionsApp.RepoRoot, "infra", Dockerfiles[0])));
        foreach (string name in Dockerfiles)
        {
            string text = Dockerfile(name);
            var raw = PublishedApp.DockerfilePublishArguments(Path.Combine(FunctionsApp.RepoRoot, "infra", name));
            // The GPU image differs by one property only: the ONNX Runtime flavour (Microsoft.ML.OnnxRuntime.Gpu.Linux).
            Assert.Equal(name.Contains("gpu", StringComparison.Ordinal), raw.Contains("-p:OnnxRuntimeFlavor=Gpu"));
            var args = Common(raw);
            Assert.Equal(cpu, args);
            Assert.Contains("functions/Pipeline.Functions/Pipeline.Functions.csproj", args);
            int o = args.IndexOf("-o");
            Assert.True(o >= 0 && args[o + 1] == PublishedApp.DockerPublishFolder, $"{name}: publish output is not {PublishedApp.DockerPublishFolder}");
            Assert.Matches(new Regex($@"COPY --from=build {PublishedApp.DockerPublishFolder} /home/site/wwwroot\n"), text);
            Assert.Contains("AzureWebJobsScriptRoot=/home/site/wwwroot", text);
            Assert.Contains("FUNCTIONS_WORKER_RUNTIME=dotnet-isolated", text);
        }
    }

    [Fact]
    public void The_worker_the_host_starts_is_in_the_folder_and_runs_on_net10()
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(published.Folder, "worker.config.json")));
        var description = config.RootElement.GetProperty("description");
        Assert.Equal("dotnet-isolated", description.GetProperty("language").GetString());
        string worker = description.GetProperty("defaultWorkerPath").GetString()!;
        Assert.True(File.Exists(Path.Combine(published.Folder, worker)), $"worker.config.json names {worker}, which is not in the published folder");

        using var runtime = JsonDocument.Parse(File.ReadAllText(Path.Combine(published.Folder, Path.ChangeExtension(worker, ".runtimeconfig.json"))));
        var options = runtime.RootElement.GetProperty("runtimeOptions");
        Assert.Equal("net10.0", options.GetProperty("tfm").GetString());
        // the images use `dotnet Pipeline.Functions.dll` (UseAppHost=false): no native launcher is published
        Assert.False(File.Exists(Path.Combine(published.Folder, Path.GetFileNameWithoutExtension(worker))));
    }

    [Fact]
    public void The_function_index_and_host_settings_are_those_of_the_build()
    {
        var built = FunctionsApp.ReadMetadata().Select(f => (f.Name, f.EntryPoint)).Order().ToList();
        var shipped = FunctionsApp.ReadMetadata(published.Folder).Select(f => (f.Name, f.EntryPoint)).Order().ToList();
        Assert.Equal(built, shipped);
        Assert.Equal(
            File.ReadAllText(Path.Combine(Path.GetDirectoryName(FunctionsApp.ProjectPath)!, "host.json")),
            File.ReadAllText(Path.Combine(published.Folder, "host.json")));
    }

    [Fact]
    public void Every_host_extension_the_bindings_need_is_published_where_extensions_json_points()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(published.Folder, "extensions.json")));
        var extensions = doc.RootElement.GetProperty("extensions").EnumerateArray()
            .ToDictionary(e => e.GetProperty("name").GetString()!, e => e.GetProperty("hintPath").GetString()!);
        // durable triggers and clients, queue triggers, the blob trigger
        foreach (string needed in new[] { "DurableTask", "AzureStorageQueues", "AzureStorageBlobs" })
        {
            Assert.True(extensions.TryGetValue(needed, out var hint), $"extensions.json lacks {needed} ({string.Join(", ", extensions.Keys)})");
            Assert.True(File.Exists(Path.GetFullPath(Path.Combine(published.Folder, hint))), $"{needed}: {hint} is not in the published folder");
        }
    }

    [Fact]
    public void Developer_settings_are_not_shipped()
    {
        Assert.False(File.Exists(Path.Combine(published.Folder, "local.settings.json")));
        Assert.Empty(Directory.EnumerateFiles(published.Folder, "*.Tests.dll", SearchOption.AllDirectories));
    }
}
