using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Metrics.Features;

/// <summary>What a feature network computes, which decides the metrics it may serve.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FeatureModelKind>))]
public enum FeatureModelKind
{
    /// <summary>One pooled feature vector per image (Inception pool3 for FID/KID): serves FD[name] and KID[name].</summary>
    [JsonStringEnumMemberName("features")] Features,
    /// <summary>A backbone returning layer activations, with per-layer linear heads: serves LPIPS[name], D-LPIPS[name], I-LPIPS[name].</summary>
    [JsonStringEnumMemberName("lpips")] Lpips,
    /// <summary>An image embedding (CLIP, DINOv2): serves the cosine similarity x 100 (CLIP-I[name], DINOv2[name]).</summary>
    [JsonStringEnumMemberName("embedding")] Embedding,
}

/// <summary>How an image becomes the network's input tensor [batch, 3, height, width].</summary>
/// <param name="Range">The value range the network expects before normalisation: [0, 1] images are mapped linearly onto it.</param>
/// <param name="Mean">Subtracted per channel after the range mapping.</param>
/// <param name="Std">Divided per channel after the mean.</param>
/// <param name="Resize">"bilinear": PyTorch F.interpolate(bilinear, align_corners=False, no antialias), as pytorch-fid resizes to 299.</param>
public sealed record FeatureInputSpec(string Name, int Width, int Height, string Resize, double[] Range, double[] Mean, double[] Std);

public sealed record FeatureOutputSpec(string Name, int Dim);

/// <summary>One LPIPS layer: the backbone output name and the non-negative weight of each channel (the learned 1x1 conv).</summary>
public sealed record LpipsLayerSpec(string Name, double[] Weights);

/// <summary>
/// feature-model.json: the small descriptor beside a feature network's ONNX file (docs/metrics.md, "Feature models").
/// </summary>
public sealed record FeatureModelDescriptor
{
    /// <summary>The name metrics are reported under, e.g. "inception-2048" -> FD[inception-2048]; "pytorch-fid" -> FID.</summary>
    public required string Name { get; init; }
    public required FeatureModelKind Kind { get; init; }
    public required string File { get; init; }
    /// <summary>Hex SHA-256 of <see cref="File"/>; checked when the model is opened.</summary>
    public string? Sha256 { get; init; }
    public string? Description { get; init; }
    public required FeatureInputSpec Input { get; init; }
    /// <summary>The feature / embedding output (kinds features and embedding).</summary>
    public FeatureOutputSpec? Output { get; init; }
    /// <summary>The compared layers (kind lpips).</summary>
    public IReadOnlyList<LpipsLayerSpec> Layers { get; init; } = [];

    /// <summary>The folder the descriptor was read from.</summary>
    [JsonIgnore] public string Folder { get; init; } = "";

    /// <summary>Version string of every metric computed with this network: kind, name and the model file's hash.</summary>
    [JsonIgnore] public string Version => $"{Kind.ToString().ToLowerInvariant()}/1 {Name} sha256:{(Sha256 is { Length: >= 12 } s ? s[..12] : "unverified")} resize={Input.Resize} {Input.Width}x{Input.Height}";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { ReadCommentHandling = JsonCommentHandling.Skip };

    /// <summary>Reads and checks feature-model.json in <paramref name="folder"/> (and the ONNX file's hash when given).</summary>
    public static FeatureModelDescriptor Load(string folder)
    {
        string path = Path.Combine(folder, "feature-model.json");
        if (!System.IO.File.Exists(path))
            throw new FileNotFoundException($"feature model '{folder}': no feature-model.json (see docs/metrics.md for the format)", path);
        FeatureModelDescriptor d;
        try
        {
            d = JsonSerializer.Deserialize<FeatureModelDescriptor>(System.IO.File.ReadAllText(path), Json)
                ?? throw new InvalidDataException("empty document");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"feature model '{path}': invalid JSON: {e.Message}", e);
        }
        d = d with { Folder = Path.GetFullPath(folder) };
        var problems = d.Problems();
        if (problems.Count > 0) throw new InvalidDataException($"feature model '{path}': {string.Join("; ", problems)}");
        string onnx = Path.Combine(folder, d.File);
        if (!System.IO.File.Exists(onnx)) throw new FileNotFoundException($"feature model '{path}': the ONNX file '{d.File}' is missing", onnx);
        if (d.Sha256 is { } expected)
        {
            using var s = System.IO.File.OpenRead(onnx);
            var actual = Convert.ToHexStringLower(SHA256.HashData(s));
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"feature model '{path}': '{d.File}' has SHA-256 {actual}, the descriptor says {expected}; the file changed or the descriptor is stale");
        }
        return d;
    }

    private List<string> Problems()
    {
        var p = new List<string>();
        if (string.IsNullOrWhiteSpace(Name) || Name.IndexOfAny(['[', ']', ' ']) >= 0) p.Add($"name '{Name}' must be non-empty without spaces or brackets");
        if (Input.Width <= 0 || Input.Height <= 0) p.Add($"input size {Input.Width}x{Input.Height} must be positive");
        if (Input.Resize != "bilinear") p.Add($"resize '{Input.Resize}' is not supported (only 'bilinear')");
        if (Input.Range is not { Length: 2 } || !(Input.Range[1] > Input.Range[0])) p.Add("input.range must be [low, high] with high > low");
        if (Input.Mean is not { Length: 3 } || Input.Std is not { Length: 3 } || Input.Std.Any(s => !(s > 0))) p.Add("input.mean and input.std need 3 values, std positive");
        switch (Kind)
        {
            case FeatureModelKind.Features or FeatureModelKind.Embedding when Output is null || Output.Dim <= 0:
                p.Add($"kind {Kind} needs output {{name, dim > 0}}");
                break;
            case FeatureModelKind.Lpips when Layers.Count == 0 || Layers.Any(l => l.Weights.Length == 0 || l.Weights.Any(w => !(w >= 0))):
                p.Add("kind lpips needs layers, each with non-negative weights per channel");
                break;
        }
        return p;
    }
}
