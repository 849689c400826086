using System.Security.Cryptography;

namespace Pipeline.Inference.Packages;

/// <summary>
/// Read access to the blobs of a model package under a prefix (e.g. <c>models/mammo-tiny/1.0.0/</c>). The storage
/// layer implements it over Azure Blob Storage; <see cref="FolderModelBlobSource"/> serves a local folder.
/// </summary>
public interface IModelBlobSource
{
    /// <summary>Opens the blob <paramref name="blobName"/> for reading; throws <see cref="FileNotFoundException"/> when it does not exist.</summary>
    Task<Stream> OpenReadAsync(string blobName, CancellationToken cancellationToken = default);
}

/// <summary>An <see cref="IModelBlobSource"/> over a local folder: blob names are paths relative to <paramref name="root"/>.</summary>
public sealed class FolderModelBlobSource(string root) : IModelBlobSource
{
    public Task<Stream> OpenReadAsync(string blobName, CancellationToken cancellationToken = default)
    {
        var path = Path.GetFullPath(Path.Combine(root, blobName));
        if (!path.StartsWith(Path.GetFullPath(root), StringComparison.Ordinal)) throw new ArgumentException($"blob name '{blobName}' leaves the source folder");
        if (!File.Exists(path)) throw new FileNotFoundException($"blob '{blobName}' does not exist under '{root}'", path);
        return Task.FromResult<Stream>(File.OpenRead(path));
    }
}

/// <summary>
/// Fetches model packages from a blob prefix into a local cache and loads them from there. Files are stored once by
/// content (<c>{cache}/blobs/{sha256}</c>), verified against model.json while downloading; a package is assembled in
/// <c>{cache}/packages/{sha256 of model.json}/</c> and reused as long as its files still verify. Safe to share between
/// processes: every write goes to a temporary name first and is renamed into place.
/// </summary>
public sealed class ModelPackageCache(string cacheDirectory)
{
    public string CacheDirectory { get; } = Path.GetFullPath(cacheDirectory);

    /// <summary>Loads the package under <paramref name="prefix"/> of <paramref name="source"/>, downloading only what the cache lacks.</summary>
    public async Task<ModelPackage> GetAsync(IModelBlobSource source, string prefix, CancellationToken cancellationToken = default)
    {
        prefix = prefix.TrimEnd('/') + "/";
        byte[] manifest;
        try
        {
            await using var s = await source.OpenReadAsync(prefix + "model.json", cancellationToken).ConfigureAwait(false);
            using var ms = new MemoryStream();
            await s.CopyToAsync(ms, cancellationToken).ConfigureAwait(false);
            manifest = ms.ToArray();
        }
        catch (FileNotFoundException e) { throw new ModelPackageException(prefix, null, $"no model.json under the blob prefix '{prefix}'", e); }

        var key = Convert.ToHexStringLower(SHA256.HashData(manifest));
        var packageDir = Path.Combine(CacheDirectory, "packages", key);
        if (File.Exists(Path.Combine(packageDir, "model.json")))
        {
            try { return await ModelPackage.LoadAsync(packageDir, cancellationToken).ConfigureAwait(false); }
            catch (ModelPackageException) { TryDelete(packageDir); } // corrupted cache entry: fetch again
        }

        var parsed = ModelPackage.Parse(manifest, packageDir);
        var staging = Path.Combine(CacheDirectory, "staging", $"{key}.{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            foreach (var c in parsed.Components)
            {
                var blob = await FetchBlobAsync(source, prefix + c.File, c.Sha256, parsed.Name, c.Name, cancellationToken).ConfigureAwait(false);
                File.Copy(blob, Path.Combine(staging, c.File));
            }
            if (!parsed.Reference.NullIsZeros)
            {
                // The null reference file has no hash in model.json: copied as is.
                await using var s = await source.OpenReadAsync(prefix + parsed.Reference.Null, cancellationToken).ConfigureAwait(false);
                await using var f = File.Create(Path.Combine(staging, parsed.Reference.Null));
                await s.CopyToAsync(f, cancellationToken).ConfigureAwait(false);
            }
            await File.WriteAllBytesAsync(Path.Combine(staging, "model.json"), manifest, cancellationToken).ConfigureAwait(false);
            Directory.CreateDirectory(Path.GetDirectoryName(packageDir)!);
            try { Directory.Move(staging, packageDir); }
            catch (IOException) when (Directory.Exists(packageDir)) { TryDelete(staging); } // another process won the race
        }
        catch { TryDelete(staging); throw; }
        return await ModelPackage.LoadAsync(packageDir, cancellationToken).ConfigureAwait(false);
    }

    private async Task<string> FetchBlobAsync(IModelBlobSource source, string blobName, string sha256, string package, string component, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(CacheDirectory, "blobs");
        Directory.CreateDirectory(dir);
        var target = Path.Combine(dir, sha256);
        if (File.Exists(target))
        {
            await using var existing = File.OpenRead(target);
            if (Convert.ToHexStringLower(await SHA256.HashDataAsync(existing, cancellationToken).ConfigureAwait(false)) == sha256) return target;
        }
        var temp = target + "." + Guid.NewGuid().ToString("N") + ".part";
        try
        {
            string actual;
            await using (var s = await OpenAsync(source, blobName, package, component, cancellationToken).ConfigureAwait(false))
            await using (var f = File.Create(temp))
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var buffer = new byte[1 << 16];
                int n;
                while ((n = await s.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, n);
                    await f.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                }
                actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            }
            if (actual != sha256)
                throw new ModelPackageException(package, component, $"SHA-256 mismatch for blob '{blobName}': model.json says {sha256}, the blob has {actual}");
            File.Move(temp, target, overwrite: true);
            return target;
        }
        finally { if (File.Exists(temp)) File.Delete(temp); }
    }

    private static async Task<Stream> OpenAsync(IModelBlobSource source, string blobName, string package, string component, CancellationToken cancellationToken)
    {
        try { return await source.OpenReadAsync(blobName, cancellationToken).ConfigureAwait(false); }
        catch (FileNotFoundException e) { throw new ModelPackageException(package, component, $"the blob '{blobName}' does not exist", e); }
    }

    private static void TryDelete(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
