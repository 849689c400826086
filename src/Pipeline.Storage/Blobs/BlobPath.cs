namespace Pipeline.Storage.Blobs;

/// <summary>
/// A validated blob location: one of the pipeline's containers and a blob name inside it. Written as
/// "container/name" (e.g. "runs/run-1/status.json"), the form activities pass around.
/// </summary>
public readonly record struct BlobPath
{
    public BlobPath(string container, string name)
    {
        if (!StorageLayout.Containers.Contains(container))
            throw new InvalidBlobNameException($"{container}/{name}", $"container '{container}' is not one of {string.Join(", ", StorageLayout.Containers)}");
        Container = container;
        Name = BlobNames.Check(name);
    }

    public string Container { get; }
    public string Name { get; }

    public override string ToString() => $"{Container}/{Name}";

    /// <summary>Parses "container/name"; throws <see cref="InvalidBlobNameException"/> for anything else.</summary>
    public static BlobPath Parse(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        int slash = path.IndexOf('/');
        if (slash <= 0) throw new InvalidBlobNameException(path, "expected container/name, e.g. runs/{runId}/status.json");
        return new BlobPath(path[..slash], path[(slash + 1)..]);
    }

    public static bool TryParse(string? path, out BlobPath result)
    {
        result = default;
        if (path is null) return false;
        try { result = Parse(path); return true; }
        catch (InvalidBlobNameException) { return false; }
    }

    /// <summary>datasets/{name}/{relative}.</summary>
    public static BlobPath Dataset(string dataset, string relative) =>
        new(StorageLayout.DatasetsContainer, $"{Core.Contracts.ResourceNames.CheckName(dataset, "Dataset name", nameof(dataset))}/{BlobNames.Check(relative)}");

    /// <summary>runs/{runId}/{relative}.</summary>
    public static BlobPath Run(string runId, string relative) =>
        new(StorageLayout.RunsContainer, $"{Core.Contracts.ResourceNames.CheckRunId(runId)}/{BlobNames.Check(relative)}");

    /// <summary>models/{name}/{version}/{relative}.</summary>
    public static BlobPath Model(string name, string version, string relative) =>
        new(StorageLayout.ModelsContainer,
            $"{Core.Contracts.ResourceNames.CheckName(name, "Model name", nameof(name))}/{Core.Contracts.ResourceNames.CheckName(version, "Model version", nameof(version))}/{BlobNames.Check(relative)}");
}
