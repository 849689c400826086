using System.Security.Cryptography;
using Pipeline.Cli.Commands;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;

namespace Pipeline.Cli.Tests.Platform;

[Collection("cli-storage")]
public class ModelUploadTests(CliAzuriteFixture azurite)
{
    private static Task<int> Run(params string[] args) => Program.BuildRoot().Parse(args).InvokeAsync();

    /// <summary>A copy of the committed demo package in a temporary folder.</summary>
    private static string CopyOfDemoPackage()
    {
        var source = Path.Combine(CliStorage.RepositoryRoot, "models", "mammo-tiny");
        var dir = Path.Combine(Path.GetTempPath(), "model-upload-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(source)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return dir;
    }

    private async Task<string?> BlobSha(string name, string version, string file) =>
        (await azurite.Storage.GetSha256Async(BlobPath.Model(name, version, file)))?.Sha256;

    [Fact]
    public async Task A_package_is_uploaded_once_and_a_second_upload_of_the_same_package_changes_nothing()
    {
        var dir = CopyOfDemoPackage();
        try
        {
            Assert.Equal(ExitCodes.Ok, await Run("model", "upload", dir, "mammo-up/1.0.0"));
            foreach (var f in Directory.GetFiles(dir))
                Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))), await BlobSha("mammo-up", "1.0.0", Path.GetFileName(f)));
            Assert.Equal(ExitCodes.Ok, await Run("model", "upload", dir, "models/mammo-up/1.0.0"));
            // The uploaded package loads through the same cache the hosts use.
            var cache = Path.Combine(dir + "-cache");
            var package = await new global::Pipeline.Inference.Packages.ModelPackageCache(cache).GetAsync(new BlobSource(azurite.Storage), "mammo-up/1.0.0");
            Assert.Equal("mammo-tiny", package.Name);
            Directory.Delete(cache, true);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task A_different_package_under_an_existing_version_is_refused_and_nothing_is_overwritten()
    {
        var dir = CopyOfDemoPackage();
        try
        {
            Assert.Equal(ExitCodes.Ok, await Run("model", "upload", dir, "mammo-up2/1.0.0"));
            string before = (await BlobSha("mammo-up2", "1.0.0", "model.json"))!;
            var manifest = Path.Combine(dir, "model.json");
            File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"steps\": 25", "\"steps\": 30"));
            Assert.Equal(ExitCodes.Failures, await Run("model", "upload", dir, "mammo-up2/1.0.0"));
            Assert.Equal(before, await BlobSha("mammo-up2", "1.0.0", "model.json"));
            Assert.Equal(ExitCodes.Ok, await Run("model", "upload", dir, "mammo-up2/1.0.1")); // a new version is fine
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task A_package_whose_files_do_not_match_their_hashes_or_the_schema_is_refused_before_uploading()
    {
        var dir = CopyOfDemoPackage();
        try
        {
            var onnx = Path.Combine(dir, "denoiser.onnx");
            var bytes = File.ReadAllBytes(onnx);
            bytes[^1] ^= 0xFF;
            File.WriteAllBytes(onnx, bytes);
            Assert.Equal(ExitCodes.Failures, await Run("model", "upload", dir, "mammo-bad/1.0.0"));
            Assert.Null(await BlobSha("mammo-bad", "1.0.0", "model.json"));
            Assert.Null(await BlobSha("mammo-bad", "1.0.0", "denoiser.onnx"));

            var fresh = CopyOfDemoPackage();
            var manifest = Path.Combine(fresh, "model.json");
            File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"kind\": \"pixel\",", "\"kind\": \"pixel\", \"colour\": \"blue\","));
            Assert.Equal(ExitCodes.Failures, await Run("model", "upload", fresh, "mammo-bad/1.0.0"));
            Assert.Null(await BlobSha("mammo-bad", "1.0.0", "model.json"));
            Directory.Delete(fresh, true);
            Assert.Equal(ExitCodes.Usage, await Run("model", "upload", dir, "no-version"));
        }
        finally { Directory.Delete(dir, true); }
    }

    private sealed class BlobSource(PipelineStorage storage) : global::Pipeline.Inference.Packages.IModelBlobSource
    {
        public async Task<Stream> OpenReadAsync(string blobName, CancellationToken cancellationToken = default) =>
            await storage.OpenReadAsync(new BlobPath(StorageLayout.ModelsContainer, blobName), cancellationToken)
            ?? throw new FileNotFoundException(blobName);
    }
}
