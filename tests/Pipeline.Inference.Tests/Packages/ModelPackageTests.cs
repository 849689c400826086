using System.Text.Json.Nodes;
using Pipeline.Core.Domains;
using Pipeline.Inference.Onnx;
using Pipeline.Inference.Packages;
using Pipeline.Inference.Sampling;
using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Tests.Packages;

public sealed class ModelPackageTests : IDisposable
{
    private readonly string _temp = Path.Combine(Path.GetTempPath(), "pkg-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { if (Directory.Exists(_temp)) Directory.Delete(_temp, true); }

    /// <summary>A copy of a test package whose model.json can be edited.</summary>
    private string Copy(string source, Action<JsonObject>? edit = null)
    {
        var dir = Path.Combine(_temp, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(source)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        if (edit != null)
        {
            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "model.json")))!.AsObject();
            edit(json);
            File.WriteAllText(Path.Combine(dir, "model.json"), json.ToJsonString());
        }
        return dir;
    }

    [Fact]
    public async Task Loads_the_latent_package_with_all_components()
    {
        var p = await ModelPackage.LoadAsync(TestModels.LatentInpaint);
        Assert.Equal(ModelKind.Latent, p.Kind);
        Assert.Equal(new LatentSpec(4, 4, 0.5), p.Latent);
        Assert.Equal(8, p.SampleSize);
        Assert.Equal(4, p.SampleChannels);
        Assert.Equal(ReferenceInput.Embedding, p.Reference.Input);
        Assert.Equal(4, p.Components.Count());
        Assert.Equal("z_t", p.Denoiser.Input("sample"));
        Assert.Equal(BetaSchedule.ScaledLinear, p.Schedule.BetaSchedule);
        Assert.Equal(TimestepSpacing.Leading, p.Schedule.TimestepSpacing);
        Assert.Equal(1, p.Schedule.StepsOffset);
        Assert.Equal(2.5, p.Guidance.Scale);
        Assert.Equal(64, p.ManifestSha256.Length);
        using var m = InpaintingModel.Open(p);
        Assert.Equal(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int64, m.TimestepType);
        Assert.Equal([8L], m.DenoiserReferenceShape);
        Assert.Contains(m.NullReference, v => v != 0);
    }

    [Fact]
    public async Task Timestep_element_type_comes_from_the_graph()
    {
        using var m = InpaintingModel.Open(await ModelPackage.LoadAsync(TestModels.PixelInpaint));
        Assert.Equal(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float, m.TimestepType);
    }

    [Fact]
    public async Task Missing_folder_and_missing_manifest_are_clear()
    {
        var e = await Assert.ThrowsAsync<ModelPackageException>(() => ModelPackage.LoadAsync("/nonexistent/pkg"));
        Assert.Contains("does not exist", e.Message);
        Directory.CreateDirectory(_temp);
        e = await Assert.ThrowsAsync<ModelPackageException>(() => ModelPackage.LoadAsync(_temp));
        Assert.Contains("model.json", e.Message);
    }

    [Fact]
    public async Task Hash_mismatch_names_package_component_and_file()
    {
        var dir = Copy(TestModels.PixelBlend);
        var bytes = File.ReadAllBytes(Path.Combine(dir, "denoiser.onnx"));
        bytes[^1] ^= 1;
        File.WriteAllBytes(Path.Combine(dir, "denoiser.onnx"), bytes);
        var e = await Assert.ThrowsAsync<ModelPackageException>(() => ModelPackage.LoadAsync(dir));
        Assert.Contains("SHA-256 mismatch", e.Message);
        Assert.Contains("test-pixel-blend", e.Message);
        Assert.Equal("denoiser", e.Component);
    }

    [Fact]
    public async Task Missing_component_file_is_clear()
    {
        var dir = Copy(TestModels.LatentInpaint);
        File.Delete(Path.Combine(dir, "vae_decoder.onnx"));
        var e = await Assert.ThrowsAsync<ModelPackageException>(() => ModelPackage.LoadAsync(dir));
        Assert.Equal("vaeDecoder", e.Component);
        Assert.Contains("vae_decoder.onnx", e.Message);
    }

    [Theory]
    [InlineData("kind", "voxel", "'kind' is 'voxel'")]
    [InlineData("formatVersion", "2", "formatVersion 2")]
    [InlineData("latentMissing", "", "requires a 'latent' section")]
    [InlineData("noVae", "", "requires the vaeEncoder and vaeDecoder")]
    [InlineData("embeddingNoEncoder", "", "requires the referenceEncoder")]
    [InlineData("badHash", "", "64 hex digits")]
    [InlineData("betaSchedule", "cubic", "'betaSchedule' is 'cubic'")]
    [InlineData("escape", "", "plain name")]
    [InlineData("nameType", "", "wrong type")]
    [InlineData("stepsType", "", "'steps' must be an integer")]
    public async Task Invalid_manifests_are_rejected_with_the_problem_named(string what, string value, string expected)
    {
        var dir = Copy(TestModels.LatentInpaint, j =>
        {
            var comps = j["components"]!.AsObject();
            switch (what)
            {
                case "kind": j["kind"] = value; break;
                case "formatVersion": j["formatVersion"] = int.Parse(value); break;
                case "latentMissing": j["latent"] = null; break;
                case "noVae": comps["vaeDecoder"] = null; break;
                case "embeddingNoEncoder": comps["referenceEncoder"] = null; break;
                case "badHash": comps["denoiser"]!["sha256"] = "abc"; break;
                case "betaSchedule": j["schedule"]!["betaSchedule"] = value; break;
                case "escape": comps["denoiser"]!["file"] = "../denoiser.onnx"; break;
                case "nameType": j["description"] = 3; break;
                case "stepsType": j["sampler"]!["steps"] = "many"; break;
            }
        });
        var e = await Assert.ThrowsAsync<ModelPackageException>(() => ModelPackage.LoadAsync(dir));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public async Task Binding_to_an_input_the_graph_does_not_have_is_rejected_when_opening()
    {
        var dir = Copy(TestModels.PixelBlend, j => j["components"]!["denoiser"]!["inputs"]!["reference"] = "reference_image");
        var p = await ModelPackage.LoadAsync(dir);
        var e = Assert.Throws<ModelPackageException>(() => InpaintingModel.Open(p));
        Assert.Contains("'reference_image'", e.Message);
        Assert.Contains("graph inputs: x_t, t, ref", e.Message);
    }

    [Fact]
    public async Task An_unbound_graph_input_is_rejected_when_opening()
    {
        var dir = Copy(TestModels.PixelInpaint, j => j["components"]!["denoiser"]!["inputs"]!.AsObject().Remove("detailMap"));
        var e = Assert.Throws<ModelPackageException>(() => InpaintingModel.Open(ModelPackage.LoadAsync(dir).Result));
        Assert.Contains("graph input 'hf'", e.Message);
        Assert.Contains("not bound", e.Message);
    }

    [Fact]
    public async Task A_resolution_the_graph_cannot_take_is_rejected_when_opening()
    {
        var dir = Copy(TestModels.PixelBlend, j => j["resolution"] = 32);
        var e = Assert.Throws<ModelPackageException>(() => InpaintingModel.Open(ModelPackage.LoadAsync(dir).Result));
        Assert.Contains("[batch, 1, 16, 16]", e.Message);
        Assert.Contains("[batch, 1, 32, 32]", e.Message);
    }

    [Fact]
    public async Task Blob_prefix_is_fetched_into_the_cache_verified_and_reused()
    {
        var store = Path.Combine(_temp, "store");
        var prefix = "models/test-latent/1.0.0";
        var src = Path.Combine(store, prefix);
        Directory.CreateDirectory(src);
        foreach (var f in Directory.GetFiles(TestModels.LatentInpaint)) File.Copy(f, Path.Combine(src, Path.GetFileName(f)));
        var cache = new ModelPackageCache(Path.Combine(_temp, "cache"));
        var source = new CountingSource(new FolderModelBlobSource(store));

        var p1 = await cache.GetAsync(source, prefix);
        Assert.StartsWith(cache.CacheDirectory, p1.Directory);
        Assert.Equal(6, source.Opened); // model.json, 4 ONNX files, null embedding
        using (InpaintingModel.Open(p1)) { }

        var p2 = await cache.GetAsync(source, prefix + "/");
        Assert.Equal(7, source.Opened); // only model.json again
        Assert.Equal(p1.Directory, p2.Directory);
        Assert.Equal(p1.ManifestSha256, p2.ManifestSha256);
    }

    [Fact]
    public async Task Blob_with_wrong_content_is_rejected_and_not_cached()
    {
        var store = Path.Combine(_temp, "store2");
        var src = Path.Combine(store, "models/x/1");
        Directory.CreateDirectory(src);
        foreach (var f in Directory.GetFiles(TestModels.PixelBlend)) File.Copy(f, Path.Combine(src, Path.GetFileName(f)));
        File.AppendAllText(Path.Combine(src, "denoiser.onnx"), "tampered");
        var cache = new ModelPackageCache(Path.Combine(_temp, "cache2"));
        var e = await Assert.ThrowsAsync<ModelPackageException>(() => cache.GetAsync(new FolderModelBlobSource(store), "models/x/1"));
        Assert.Contains("SHA-256 mismatch", e.Message);
        Assert.False(Directory.Exists(Path.Combine(cache.CacheDirectory, "packages")) && Directory.EnumerateDirectories(Path.Combine(cache.CacheDirectory, "packages")).Any());
        var missing = await Assert.ThrowsAsync<ModelPackageException>(() => cache.GetAsync(new FolderModelBlobSource(store), "models/none/1"));
        Assert.Contains("no model.json", missing.Message);
    }

    private sealed class CountingSource(IModelBlobSource inner) : IModelBlobSource
    {
        public int Opened;
        public Task<Stream> OpenReadAsync(string blobName, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Opened);
            return inner.OpenReadAsync(blobName, cancellationToken);
        }
    }

    // model.json "preparation": read from the package, defaults for packages without the section

    /// <summary>The committed demo package has no "preparation": it gets the values it was trained with.</summary>
    [Fact]
    public async Task The_demo_package_gets_the_anydoormed_defaults()
    {
        var p = await ModelPackage.LoadAsync(Path.Combine(Training.PythonTrainingJob.RepoRoot, "models", "mammo-tiny"));
        // the crop preparation is AnydoorMed's; 2.0.0 asks for the target's tissue under insertions and for tissue from the
        // image itself under replacements (docs/preprocessing.md)
        Assert.Equal(PreparationSettings.Default with { Resolution = 64, ReferenceSize = 64, TargetTextureSigma = 6, TissueDonor = true }, p.Preparation);
        Assert.Equal((3.0, 4.0, 1.2), (p.Preparation.CropRatioMin, p.Preparation.CropRatioMax, p.Preparation.ReferenceExpand));
    }

    [Fact]
    public async Task The_preparation_section_is_read_with_the_shapes_and_value_range()
    {
        var dir = Copy(TestModels.PixelInpaint, j => j["preparation"] = new JsonObject { ["cropRatio"] = new JsonArray(2.5, 3.25), ["referenceExpand"] = 1.4 });
        var p = await ModelPackage.LoadAsync(dir);
        Assert.Equal(2.5, p.Preparation.CropRatioMin);
        Assert.Equal(3.25, p.Preparation.CropRatioMax);
        Assert.Equal(1.4, p.Preparation.ReferenceExpand);
        Assert.Equal(p.Resolution, p.Preparation.Resolution);
        Assert.Equal(p.Reference.Size, p.Preparation.ReferenceSize);
        Assert.Equal(p.ValueRange, (p.Preparation.ValueMin, p.Preparation.ValueMax));
    }

    [Theory]
    [InlineData("[4.0, 3.0]", null, "crop ratio range [4, 3]")]
    [InlineData("[0.5, 3.0]", null, "crop ratio range [0.5, 3]")]
    [InlineData("[3.0]", null, "two numbers")]
    [InlineData(null, "0.9", "reference expansion 0.9")]
    [InlineData(null, null, "tissue donor needs a positive target texture sigma", "true")]
    [InlineData(null, null, "'preparation.tissueDonor' must be true or false", "\"yes\"")]
    public async Task A_bad_preparation_section_is_a_clear_error(string? ratio, string? expand, string expected, string? donor = null)
    {
        var dir = Copy(TestModels.PixelInpaint, j =>
        {
            var prep = new JsonObject();
            if (ratio is not null) prep["cropRatio"] = JsonNode.Parse(ratio);
            if (expand is not null) prep["referenceExpand"] = JsonNode.Parse(expand);
            if (donor is not null) prep["tissueDonor"] = JsonNode.Parse(donor);
            j["preparation"] = prep;
        });
        var e = await Assert.ThrowsAsync<ModelPackageException>(() => ModelPackage.LoadAsync(dir));
        Assert.Contains(expected, e.Message);
        Assert.Contains("preparation", e.Message);
    }
}
