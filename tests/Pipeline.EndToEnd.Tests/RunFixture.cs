using Pipeline.Core.Contracts;
using Pipeline.Imaging.Synthetic;
using Pipeline.Storage;
using Pipeline.Storage.Azurite;
using Pipeline.Tests.Shared;

namespace Pipeline.EndToEnd.Tests;

/// <summary>One Azurite and one small synthetic mammography dataset ("mammo") uploaded and ingested, shared by the class.</summary>
public sealed class RunFixture : AzuriteFixture
{
    public const string Dataset = "mammo";
    /// <summary>The shared fixture's Azurite.</summary>
    public AzuriteServer Azurite => Server;
    public string DatasetFolder { get; } = Path.Combine(Path.GetTempPath(), $"e2e-mammo-{Guid.NewGuid():N}");

    /// <summary>The tiny random-weight inpainting package (64 px, reference 64 px) of training/test_models.</summary>
    public static string TestModel => Path.Combine(RepoRoot, "training", "test_models", "bench_inpaint");

    public static string RepoRoot
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Pipeline.sln"))) return d.FullName;
            throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
        }
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await SyntheticMammoDataset.WriteToFolderAsync(new SyntheticMammoOptions { Count = 8, Seed = 7, Rows = 512, Columns = 416 }, DatasetFolder);
        await UploadAsync(Azurite.ConnectionString, DatasetFolder, Dataset);
    }

    /// <summary>Uploads a dataset folder and writes its index (what the blob-drop trigger's ingestion does).</summary>
    public static async Task UploadAsync(string connectionString, string folder, string name)
    {
        var storage = new PipelineStorage(connectionString);
        await storage.EnsureCreatedAsync();
        var dataset = storage.Dataset(name);
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            await using var s = File.OpenRead(file);
            await dataset.UploadAsync(Path.GetRelativePath(folder, file).Replace('\\', '/'), s);
        }
        await new Pipeline.Host.Ingestion.ValidatingDatasetIngestor(storage).IngestAsync(name, CancellationToken.None);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        try { Directory.Delete(DatasetFolder, recursive: true); } catch (IOException) { }
    }
}
