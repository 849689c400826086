using Pipeline.Core.Domains;
using Pipeline.Imaging.Synthetic;

namespace Pipeline.Mammography.Tests;

/// <summary>A local folder read as the domain reads blobs (paths relative to the folder), and a small synthetic
/// mammography dataset in it.</summary>
internal sealed class FolderBlobs(string root) : IBlobReader
{
    public string Root { get; } = root;

    public async Task<byte[]?> ReadAsync(string blobPath, CancellationToken cancellationToken) =>
        File.Exists(Path.Combine(Root, blobPath)) ? await File.ReadAllBytesAsync(Path.Combine(Root, blobPath), cancellationToken) : null;

    /// <summary>Every file of the folder, as the dataset index lists them.</summary>
    public IReadOnlySet<string> Paths() =>
        Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Root, f).Replace('\\', '/')).ToHashSet(StringComparer.Ordinal);

    public static async Task<FolderBlobs> SyntheticAsync(string root, int count = 8, ulong seed = 3)
    {
        await SyntheticMammoDataset.WriteToFolderAsync(new SyntheticMammoOptions { Count = count, Seed = seed, Rows = 320, Columns = 256, PositiveFraction = 0.5 }, root);
        return new FolderBlobs(root);
    }
}
