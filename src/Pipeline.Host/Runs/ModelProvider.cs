using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contracts;
using Pipeline.Inference.Onnx;
using Pipeline.Inference.Packages;
using Pipeline.Inference.Sampling;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;

namespace Pipeline.Host.Runs;

/// <summary>
/// Resolves a request's model reference (models/{name}/{version} in blob storage, or a local folder) to a verified
/// <see cref="ModelPackage"/>, and keeps one opened <see cref="InpaintingModel"/> per package hash for the GPU worker
/// (loading ONNX sessions is the expensive part).
/// </summary>
public sealed class ModelProvider(PipelineStorage storage, IOptions<ModelProviderOptions> options) : IDisposable
{
    private readonly ModelPackageCache _cache = new(options.Value.CacheDirectory);
    private readonly ConcurrentDictionary<string, Lazy<InpaintingModel>> _models = new(StringComparer.Ordinal);

    public async Task<ModelPackage> GetPackageAsync(string reference, CancellationToken cancellationToken)
    {
        var r = ModelReference.Parse(reference);
        if (!r.IsBlob)
        {
            if (!File.Exists(Path.Combine(r.LocalPath!, "model.json")))
                throw new FileNotFoundException($"Model package '{reference}': no model.json in folder {Path.GetFullPath(r.LocalPath!)}");
            return await ModelPackage.LoadAsync(r.LocalPath!, cancellationToken).ConfigureAwait(false);
        }
        return await _cache.GetAsync(new BlobModelSource(storage), $"{r.Name}/{r.Version}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An opened model for the package (one per manifest hash, shared by every shard).</summary>
    public InpaintingModel GetModel(ModelPackage package) =>
        _models.GetOrAdd(package.ManifestSha256, _ => new Lazy<InpaintingModel>(() => InpaintingModel.Open(package, new OrtSessionOptions { AllowSpinning = options.Value.AllowSpinning }))).Value;

    public void Dispose()
    {
        foreach (var m in _models.Values) if (m.IsValueCreated) m.Value.Dispose();
        _models.Clear();
    }

    /// <summary>Blobs of the models container.</summary>
    private sealed class BlobModelSource(PipelineStorage storage) : IModelBlobSource
    {
        public async Task<Stream> OpenReadAsync(string blobName, CancellationToken cancellationToken = default) =>
            await storage.OpenReadAsync(new BlobPath(StorageLayout.ModelsContainer, blobName), cancellationToken).ConfigureAwait(false)
            ?? throw new FileNotFoundException($"Model blob models/{blobName} does not exist.");
    }
}
