using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Core.Domains;
using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Packages;

/// <summary>
/// A model package: <c>model.json</c> and the ONNX files it names, read and checked per docs/model-package.md (every
/// file exists and matches its SHA-256; required components present). Graph-level checks (bound inputs exist, no
/// required input unbound, shapes) happen when sessions are opened (<see cref="Sampling.InpaintingModel"/>).
/// </summary>
public sealed record ModelPackage
{
    /// <summary>Role names of denoiser inputs (docs/model-package.md).</summary>
    public static class Roles
    {
        public const string Sample = "sample", Timestep = "timestep", MaskedContext = "maskedContext", Mask = "mask",
            Reference = "reference", DetailMap = "detailMap", Box = "box", Prediction = "prediction", Image = "image",
            Latent = "latent", Embedding = "embedding";
    }

    public required string Directory { get; init; }
    public required int FormatVersion { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public string Description { get; init; } = "";
    public required ModelKind Kind { get; init; }
    public required int Resolution { get; init; }
    public required int ImageChannels { get; init; }
    public required (double Min, double Max) ValueRange { get; init; }
    public LatentSpec? Latent { get; init; }
    public required InpaintingMode Inpainting { get; init; }
    /// <summary>The sample's channel groups in order, each with its own mask channel (one group of
    /// <see cref="ImageChannels"/> named "image" when model.json has no <c>modalities</c>).</summary>
    public IReadOnlyList<Modality> Modalities { get; init; } = [];
    public required ReferenceSpec Reference { get; init; }
    public required ModelComponent Denoiser { get; init; }
    public ModelComponent? VaeEncoder { get; init; }
    public ModelComponent? VaeDecoder { get; init; }
    public ModelComponent? ReferenceEncoder { get; init; }
    public required SchedulerConfig Schedule { get; init; }
    public required GuidanceDefaults Guidance { get; init; }
    public required SamplerDefaults Sampler { get; init; }
    /// <summary>How item inputs are prepared for this model: "resolution", "reference.size", "valueRange" and the optional
    /// "preparation" section {cropRatio: [min, max], referenceExpand} (absent: <see cref="PreparationSettings.Default"/>'s
    /// values, those of packages written before the section existed; docs/model-package.md).</summary>
    public required PreparationSettings Preparation { get; init; }
    /// <summary>SHA-256 of model.json itself (identifies the package version in caches and lineage).</summary>
    public required string ManifestSha256 { get; init; }

    /// <summary>Components present, in a fixed order.</summary>
    public IEnumerable<ModelComponent> Components => new[] { Denoiser, VaeEncoder, VaeDecoder, ReferenceEncoder }.OfType<ModelComponent>();

    /// <summary>Side of the denoiser's sample in its own space (image pixels, or latent cells).</summary>
    public int SampleSize => Kind == ModelKind.Latent ? Resolution / Latent!.Downsample : Resolution;
    /// <summary>Channels of the denoiser's sample.</summary>
    public int SampleChannels => Kind == ModelKind.Latent ? Latent!.Channels : ImageChannels;

    /// <summary>Whether the denoiser takes the box corners (role "box": [N, modalities, 8, 3]).</summary>
    public bool TakesBox => Denoiser.Input(Roles.Box) is not null;

    /// <summary>Absolute path of a file of the package.</summary>
    public string PathOf(string file) => System.IO.Path.Combine(Directory, file);

    /// <summary>Reads and checks the package in <paramref name="directory"/> (model.json and every file's SHA-256).</summary>
    public static async Task<ModelPackage> LoadAsync(string directory, CancellationToken cancellationToken = default)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new ModelPackageException(directory, null, $"the folder '{directory}' does not exist");
        var manifest = System.IO.Path.Combine(directory, "model.json");
        if (!File.Exists(manifest))
            throw new ModelPackageException(directory, null, $"it has no model.json (expected at '{manifest}')");
        var bytes = await File.ReadAllBytesAsync(manifest, cancellationToken).ConfigureAwait(false);
        var package = Parse(bytes, System.IO.Path.GetFullPath(directory));
        foreach (var c in package.Components)
            await VerifyFileAsync(package, c.Name, c.File, c.Sha256, cancellationToken).ConfigureAwait(false);
        if (!package.Reference.NullIsZeros)
        {
            var path = package.PathOf(package.Reference.Null);
            if (!File.Exists(path)) throw new ModelPackageException(package.Name, "reference", $"the null reference file '{package.Reference.Null}' does not exist");
        }
        return package;
    }

    /// <summary>Checks that <paramref name="file"/> exists and hashes to <paramref name="sha256"/>.</summary>
    internal static async Task VerifyFileAsync(ModelPackage package, string component, string file, string sha256, CancellationToken cancellationToken)
    {
        var path = package.PathOf(file);
        if (!File.Exists(path)) throw new ModelPackageException(package.Name, component, $"the file '{file}' does not exist in '{package.Directory}'");
        string actual;
        await using (var s = File.OpenRead(path)) actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(s, cancellationToken).ConfigureAwait(false));
        if (!string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase))
            throw new ModelPackageException(package.Name, component, $"SHA-256 mismatch for '{file}': model.json says {sha256}, the file has {actual} (corrupt or replaced file; re-export or re-download the package)");
    }

    /// <summary>Parses model.json (no file checks); <paramref name="directory"/> is where its files live.</summary>
    public static ModelPackage Parse(ReadOnlySpan<byte> json, string directory)
    {
        ModelPackage package;
        try { package = ParseCore(json, directory); }
        catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException)
        {
            // A value of the wrong JSON type somewhere not covered by a typed read (e.g. "name": 3).
            throw new ModelPackageException(directory, null, $"model.json has a value of the wrong type: {e.Message}", e);
        }
        // The typed reads above name the first problem in the reader's words; the schema (schemas/model-package.schema.json,
        // also what the training job's writer is tested against) then catches everything else at once: unknown keys,
        // values outside their enums and ranges.
        using var doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var problems = Core.Contracts.JsonSchema.Load(SchemaName).Validate(doc.RootElement);
        if (problems.Count > 0)
            throw new ModelPackageException(package.Name, null, $"model.json does not match {SchemaName}.schema.json: {string.Join("; ", problems)}");
        return package;
    }

    /// <summary>The committed schema of model.json (schemas/model-package.schema.json).</summary>
    public const string SchemaName = "model-package";

    private static ModelPackage ParseCore(ReadOnlySpan<byte> json, string directory)
    {
        JsonNode root;
        try { root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) ?? throw new JsonException("empty document"); }
        catch (JsonException e) { throw new ModelPackageException(directory, null, $"model.json is not valid JSON: {e.Message}", e); }
        var name = root["name"]?.GetValue<string>() ?? System.IO.Path.GetFileName(directory.TrimEnd('/'));
        var r = new Reader(name);

        var format = r.Int(root, "formatVersion");
        if (format != 1) throw new ModelPackageException(name, null, $"formatVersion {format} is not supported (this reader knows 1)");
        var kind = r.Enum<ModelKind>(root, "kind", new() { ["pixel"] = ModelKind.Pixel, ["latent"] = ModelKind.Latent });
        var resolution = r.Int(root, "resolution");
        var imageChannels = r.Int(root, "imageChannels");
        var range = root["valueRange"] as JsonArray ?? throw r.Error(null, "'valueRange' must be an array [min, max]");
        if (range.Count != 2) throw r.Error(null, "'valueRange' must have two numbers");
        var valueRange = (range[0]!.GetValue<double>(), range[1]!.GetValue<double>());
        if (!(valueRange.Item1 < valueRange.Item2)) throw r.Error(null, "'valueRange' must be [min, max] with min < max");

        LatentSpec? latent = null;
        if (root["latent"] is JsonObject lat)
            latent = new LatentSpec(r.Int(lat, "channels", "latent"), r.Int(lat, "downsample", "latent"), r.Double(lat, "scalingFactor", "latent"));
        var inpainting = r.Enum<InpaintingMode>(root, "inpainting", new() { ["model"] = InpaintingMode.Model, ["blend"] = InpaintingMode.Blend });
        var modalities = root["modalities"] is JsonArray mods
            ? mods.Select((m, i) => new Modality(m?["name"]?.GetValue<string>() ?? throw r.Error("modalities", $"modality {i} has no 'name'"), r.Int(m!, "channels", "modalities"))).ToList()
            : [new Modality("image", imageChannels)];

        var refNode = root["reference"] as JsonObject ?? throw r.Error("reference", "'reference' is missing");
        var reference = new ReferenceSpec(
            r.Enum<ReferenceInput>(refNode, "input", new() { ["image"] = ReferenceInput.Image, ["embedding"] = ReferenceInput.Embedding }, "reference"),
            r.Int(refNode, "size", "reference"), r.Int(refNode, "channels", "reference"), refNode["null"]?.GetValue<string>() ?? "zeros");

        var comps = root["components"] as JsonObject ?? throw r.Error(null, "'components' is missing");
        var denoiser = r.Component(comps, "denoiser") ?? throw r.Error("denoiser", "the denoiser component is required");
        var vaeEncoder = r.Component(comps, "vaeEncoder");
        var vaeDecoder = r.Component(comps, "vaeDecoder");
        var referenceEncoder = r.Component(comps, "referenceEncoder");

        var sch = root["schedule"] as JsonObject ?? throw r.Error("schedule", "'schedule' is missing");
        var smp = root["sampler"] as JsonObject ?? new JsonObject();
        var gd = root["guidance"] as JsonObject ?? new JsonObject();
        var spacing = r.Enum<TimestepSpacing>(smp, "timestepSpacing", new() { ["leading"] = TimestepSpacing.Leading, ["trailing"] = TimestepSpacing.Trailing, ["linspace"] = TimestepSpacing.Linspace, ["ldm"] = TimestepSpacing.Ldm }, "sampler", TimestepSpacing.Leading);
        var sampler = new SamplerDefaults(
            (smp["scheduler"]?.GetValue<string>() ?? "ddim").ToLowerInvariant(), r.Int(smp, "steps", "sampler", 50), r.Double(smp, "eta", "sampler", 0.0),
            spacing, r.Int(smp, "stepsOffset", "sampler", 0), smp["setAlphaToOne"]?.GetValue<bool>() ?? true);
        var schedule = new SchedulerConfig
        {
            NumTrainTimesteps = r.Int(sch, "numTrainTimesteps", "schedule"),
            BetaStart = r.Double(sch, "betaStart", "schedule"),
            BetaEnd = r.Double(sch, "betaEnd", "schedule"),
            BetaSchedule = r.Enum<BetaSchedule>(sch, "betaSchedule", new() { ["linear"] = BetaSchedule.Linear, ["scaled_linear"] = BetaSchedule.ScaledLinear, ["squaredcos_cap_v2"] = BetaSchedule.SquaredCosCapV2 }, "schedule"),
            PredictionType = r.Enum<PredictionType>(sch, "predictionType", new() { ["epsilon"] = PredictionType.Epsilon, ["v_prediction"] = PredictionType.VPrediction, ["sample"] = PredictionType.Sample }, "schedule"),
            ClipSample = sch["clipSample"]?.GetValue<bool>() ?? false,
            TimestepSpacing = spacing,
            StepsOffset = sampler.StepsOffset,
            SetAlphaToOne = sampler.SetAlphaToOne,
            Eta = sampler.Eta,
        };
        var guidance = new GuidanceDefaults(r.Double(gd, "scale", "guidance", 1.0), r.Double(gd, "referenceDropout", "guidance", 0.0));
        var prep = root["preparation"] as JsonObject ?? new JsonObject();
        var ratio = prep["cropRatio"] is null ? null : prep["cropRatio"] as JsonArray ?? throw r.Error("preparation", "'preparation.cropRatio' must be an array [min, max]");
        if (ratio is { Count: not 2 }) throw r.Error("preparation", "'preparation.cropRatio' must have two numbers [min, max]");
        var preparation = new PreparationSettings
        {
            Resolution = resolution, ReferenceSize = reference.Size, ValueMin = valueRange.Item1, ValueMax = valueRange.Item2,
            CropRatioMin = ratio is null ? PreparationSettings.Default.CropRatioMin : ratio[0]!.GetValue<double>(),
            CropRatioMax = ratio is null ? PreparationSettings.Default.CropRatioMax : ratio[1]!.GetValue<double>(),
            ReferenceExpand = r.Double(prep, "referenceExpand", "preparation", PreparationSettings.Default.ReferenceExpand),
            TargetTextureSigma = r.Double(prep, "targetTextureSigma", "preparation", PreparationSettings.Default.TargetTextureSigma),
            TissueDonor = prep["tissueDonor"] is null ? PreparationSettings.Default.TissueDonor
                : prep["tissueDonor"] is JsonValue v && v.TryGetValue<bool>(out var donor) ? donor
                : throw r.Error("preparation", "'preparation.tissueDonor' must be true or false"),
        };

        var package = new ModelPackage
        {
            Directory = directory, FormatVersion = format, Name = name, Version = root["version"]?.GetValue<string>() ?? "0",
            Description = root["description"]?.GetValue<string>() ?? "", Kind = kind, Resolution = resolution, ImageChannels = imageChannels,
            ValueRange = valueRange, Latent = latent, Inpainting = inpainting, Modalities = modalities, Reference = reference, Denoiser = denoiser,
            VaeEncoder = vaeEncoder, VaeDecoder = vaeDecoder, ReferenceEncoder = referenceEncoder, Schedule = schedule,
            Guidance = guidance, Sampler = sampler, Preparation = preparation, ManifestSha256 = Convert.ToHexStringLower(SHA256.HashData(json)),
        };
        package.CheckConsistency();
        return package;
    }

    private void CheckConsistency()
    {
        void Fail(string? component, string problem) => throw new ModelPackageException(Name, component, problem);
        if (Resolution <= 0 || ImageChannels <= 0) Fail(null, "'resolution' and 'imageChannels' must be positive");
        if (Preparation.Problems() is { Count: > 0 } prep) Fail("preparation", string.Join("; ", prep));
        if (Kind == ModelKind.Latent)
        {
            if (Latent is null) Fail(null, "kind 'latent' requires a 'latent' section {channels, downsample, scalingFactor}");
            if (VaeEncoder is null || VaeDecoder is null) Fail(null, "kind 'latent' requires the vaeEncoder and vaeDecoder components");
            if (Latent!.Channels <= 0 || Latent.Downsample <= 0 || Resolution % Latent.Downsample != 0)
                Fail(null, $"latent channels/downsample must be positive and divide the resolution {Resolution}");
            if (!(Latent.ScalingFactor > 0)) Fail(null, "latent scalingFactor must be positive");
        }
        if (Reference.Input == ReferenceInput.Embedding && ReferenceEncoder is null)
            Fail("referenceEncoder", "reference.input 'embedding' requires the referenceEncoder component");
        if (Reference.Size <= 0 || Reference.Channels <= 0) Fail("reference", "reference size and channels must be positive");
        foreach (var role in new[] { Roles.Sample, Roles.Timestep })
            if (Denoiser.Input(role) is null) Fail("denoiser", $"the denoiser must bind the '{role}' input role");
        if (Denoiser.Outputs.GetValueOrDefault(Roles.Prediction) is null) Fail("denoiser", "the denoiser must bind the 'prediction' output role");
        if (Inpainting == InpaintingMode.Model && (Denoiser.Input(Roles.Mask) is null || Denoiser.Input(Roles.MaskedContext) is null))
            Fail("denoiser", "inpainting 'model' requires the denoiser to bind both 'mask' and 'maskedContext'");
        if (Inpainting == InpaintingMode.Blend && (Denoiser.Input(Roles.Mask) is not null || Denoiser.Input(Roles.MaskedContext) is not null))
            Fail("denoiser", "inpainting 'blend' is for models without mask inputs; bind 'mask'/'maskedContext' only with inpainting 'model'");
        if (VaeEncoder is not null && (VaeEncoder.Input(Roles.Image) is null || VaeEncoder.Outputs.GetValueOrDefault(Roles.Latent) is null))
            Fail("vaeEncoder", "the vaeEncoder must bind input 'image' and output 'latent'");
        if (VaeDecoder is not null && (VaeDecoder.Input(Roles.Latent) is null || VaeDecoder.Outputs.GetValueOrDefault(Roles.Image) is null))
            Fail("vaeDecoder", "the vaeDecoder must bind input 'latent' and output 'image'");
        if (ReferenceEncoder is not null && (ReferenceEncoder.Input(Roles.Image) is null || ReferenceEncoder.Outputs.GetValueOrDefault(Roles.Embedding) is null))
            Fail("referenceEncoder", "the referenceEncoder must bind input 'image' and output 'embedding'");
        if (Sampler.Steps <= 0) Fail("sampler", "sampler steps must be positive");
        if (Modalities.Sum(m => m.Channels) != ImageChannels)
            Fail("modalities", $"the modalities' channels ({string.Join(" + ", Modalities.Select(m => $"{m.Name} {m.Channels}"))}) must add up to imageChannels {ImageChannels}");
        if (Modalities.Select(m => m.Name).Distinct(StringComparer.Ordinal).Count() != Modalities.Count) Fail("modalities", "modality names must be distinct");
        if (Modalities.Count > 1 && (Kind != ModelKind.Pixel || Inpainting != InpaintingMode.Model))
            Fail("modalities", "several modalities are supported for pixel models with inpainting 'model' (each modality's mask is a denoiser input)");
        foreach (var c in Components)
            if (c.File.Contains("..") || System.IO.Path.IsPathRooted(c.File)) Fail(c.Name, $"file '{c.File}' must be a plain name inside the package");
        if (!Reference.NullIsZeros && (Reference.Null.Contains("..") || System.IO.Path.IsPathRooted(Reference.Null)))
            Fail("reference", $"null reference file '{Reference.Null}' must be a plain name inside the package");
    }

    /// <summary>Typed reads of model.json values with errors that name the package, section and key.</summary>
    private sealed class Reader(string package)
    {
        public ModelPackageException Error(string? component, string problem) => new(package, component, problem);

        private JsonNode Required(JsonNode node, string key, string? section) =>
            node[key] ?? throw Error(section, $"'{(section is null ? "" : section + ".")}{key}' is missing");

        public int Int(JsonNode node, string key, string? section = null, int? fallback = null)
        {
            if (node[key] is null && fallback is { } f) return f;
            try { return Required(node, key, section).GetValue<int>(); }
            catch (Exception e) when (e is InvalidOperationException or FormatException) { throw Error(section, $"'{key}' must be an integer"); }
        }

        public double Double(JsonNode node, string key, string? section = null, double? fallback = null)
        {
            if (node[key] is null && fallback is { } f) return f;
            try { return Required(node, key, section).GetValue<double>(); }
            catch (Exception e) when (e is InvalidOperationException or FormatException) { throw Error(section, $"'{key}' must be a number"); }
        }

        public T Enum<T>(JsonNode node, string key, Dictionary<string, T> values, string? section = null, T? fallback = null) where T : struct
        {
            if (node[key] is null && fallback is { } f) return f;
            string text;
            try { text = Required(node, key, section).GetValue<string>(); }
            catch (InvalidOperationException) { throw Error(section, $"'{key}' must be a string"); }
            return values.TryGetValue(text, out var v) ? v
                : throw Error(section, $"'{key}' is '{text}'; expected one of {string.Join(" | ", values.Keys)}");
        }

        public ModelComponent? Component(JsonObject comps, string name)
        {
            if (comps[name] is not JsonObject c) return null;
            var file = c["file"]?.GetValue<string>() ?? throw Error(name, "'file' is missing");
            var sha = c["sha256"]?.GetValue<string>() ?? throw Error(name, "'sha256' is missing");
            if (sha.Length != 64 || !sha.All(Uri.IsHexDigit)) throw Error(name, $"'sha256' must be 64 hex digits, got '{sha}'");
            static Dictionary<string, string> Map(JsonNode? n) =>
                n is JsonObject o ? o.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>(), StringComparer.Ordinal) : new(StringComparer.Ordinal);
            return new ModelComponent(name, file, sha.ToLowerInvariant(), Map(c["inputs"]), Map(c["outputs"]));
        }
    }
}
