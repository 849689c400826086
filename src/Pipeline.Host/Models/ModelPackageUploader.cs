using System.Security.Cryptography;
using Pipeline.Core.Contracts;
using Pipeline.Inference.Packages;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;

namespace Pipeline.Host.Models;

/// <summary>What an upload did: files written, files already there, and the package's blob prefix.</summary>
public sealed record ModelUploadResult(string Prefix, int Written, int Unchanged, string ManifestSha256);

/// <summary>An upload refused before anything was written (or a file that differs from the one already uploaded).</summary>
public sealed class ModelUploadRefusedException(string message) : Exception(message);

/// <summary>
/// Puts a model package folder into models/{name}/{version}/ (docs/model-package.md, "Uploading"): the package is
/// loaded first (model.json against schemas/model-package.schema.json and every component's SHA-256), so a corrupt
/// package is refused before a byte is sent. A version is written once: when models/{name}/{version}/model.json
/// exists with other content the upload is refused; with the same content the upload completes what is missing (an
/// interrupted upload is finished by running it again). Files go up write-if-absent, model.json last, so a reader
/// that finds model.json finds every file it names.
/// </summary>
public sealed class ModelPackageUploader(PipelineStorage storage)
{
    public async Task<ModelUploadResult> UploadAsync(string folder, string name, string version, IProgress<long>? progress = null,
        CancellationToken cancellationToken = default)
    {
        if (!ResourceNames.IsValidName(name)) throw new ModelUploadRefusedException($"model name '{name}' is not valid: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
        if (!ResourceNames.IsValidName(version)) throw new ModelUploadRefusedException($"model version '{version}' is not valid: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
        ModelPackage package;
        try { package = await ModelPackage.LoadAsync(folder, cancellationToken).ConfigureAwait(false); }
        catch (ModelPackageException e) { throw new ModelUploadRefusedException($"{e.Message} Nothing uploaded."); }

        var manifestPath = BlobPath.Model(name, version, "model.json");
        if (await storage.GetSha256Async(manifestPath, cancellationToken).ConfigureAwait(false) is { } existing
            && !string.Equals(existing.Sha256, package.ManifestSha256, StringComparison.OrdinalIgnoreCase))
            throw new ModelUploadRefusedException(
                $"{manifestPath} already holds a different package (model.json sha256 {existing.Sha256[..12]}..., this one {package.ManifestSha256[..12]}...); " +
                "a version is never overwritten: upload under a new version");

        var root = Path.GetFullPath(folder);
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => (Full: f, Relative: Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/')))
            .Where(f => f.Relative != "model.json")
            .OrderBy(f => f.Relative, StringComparer.Ordinal).ToList();
        var bad = files.Select(f => BlobNames.FindProblem(f.Relative) is { } p ? $"{f.Relative}: {p}" : null).OfType<string>().ToList();
        if (bad.Count > 0) throw new ModelUploadRefusedException($"file names that cannot be blob names: {string.Join("; ", bad)}. Nothing uploaded.");
        files.Add((Path.Combine(root, "model.json"), "model.json"));

        int written = 0, unchanged = 0;
        var conflicts = new List<string>();
        foreach (var (full, relative) in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await using var stream = File.OpenRead(full);
            try
            {
                var r = await storage.WriteIfAbsentAsync(BlobPath.Model(name, version, relative), stream, ContentTypes.FromName(relative), cancellationToken).ConfigureAwait(false);
                if (r.Written) written++; else unchanged++;
            }
            catch (BlobConflictException e) { conflicts.Add($"{relative} (uploaded sha256 {e.ExistingSha256[..12]}..., local {e.NewSha256[..12]}...)"); }
            progress?.Report(new FileInfo(full).Length);
        }
        if (conflicts.Count > 0)
            throw new ModelUploadRefusedException($"models/{name}/{version}/ holds the same model.json but other content for: {string.Join(", ", conflicts)}; nothing was overwritten");
        return new ModelUploadResult($"models/{name}/{version}", written, unchanged, package.ManifestSha256);
    }
}
