namespace Pipeline.Imaging.Ingestion;

/// <summary>
/// A file of a dataset: its path relative to the dataset root ('/' separated), its size in bytes, and a version that
/// changes whenever its content may have (a blob's ETag; a file's modification time and size), or null when unknown.
/// </summary>
public sealed record DatasetSourceFile(string Path, long Size, string? Version = null);

/// <summary>
/// Where a dataset's files come from: a local folder (<see cref="FolderDatasetSource"/>) or, in the hosts, a blob prefix
/// datasets/{name}/. Ingestion only lists and reads, so these two verbs are the whole contract.
/// </summary>
public interface IDatasetSource
{
    /// <summary>The dataset's name, for reports and error messages.</summary>
    string Name { get; }

    /// <summary>Every file under the dataset root, recursively.</summary>
    IAsyncEnumerable<DatasetSourceFile> ListAsync(CancellationToken cancellationToken);

    /// <summary>Opens one file (path as listed) for reading; throws <see cref="FileNotFoundException"/> when it is absent.</summary>
    Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken);
}

/// <summary>A dataset in a local folder.</summary>
public sealed class FolderDatasetSource : IDatasetSource
{
    private readonly string _root;

    public FolderDatasetSource(string root, string? name = null)
    {
        _root = Path.GetFullPath(root);
        if (!Directory.Exists(_root)) throw new DirectoryNotFoundException($"dataset folder '{root}' does not exist");
        Name = name ?? Path.GetFileName(_root.TrimEnd(Path.DirectorySeparatorChar));
    }

    public string Name { get; }

    public async IAsyncEnumerable<DatasetSourceFile> ListAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var f in Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var rel = Path.GetRelativePath(_root, f).Replace(Path.DirectorySeparatorChar, '/');
            var info = new FileInfo(f);
            yield return new DatasetSourceFile(rel, info.Length, $"{info.LastWriteTimeUtc.Ticks:x}-{info.Length:x}");
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    public Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(Path.Combine(_root, path.Replace('/', Path.DirectorySeparatorChar)));
        if (!full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new UnauthorizedAccessException($"'{path}' leaves the dataset folder");
        return Task.FromResult<Stream>(new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true));
    }
}
