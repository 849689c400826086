using Microsoft.ML.OnnxRuntime.Tensors;
using Pipeline.Inference.Onnx;
using Pipeline.Inference.Packages;
using R = Pipeline.Inference.Packages.ModelPackage.Roles;

namespace Pipeline.Inference.Sampling;

/// <summary>
/// A model package with its ONNX sessions open and its bindings checked against the graphs: every bound input
/// exists, no graph input is left unbound, and the declared shapes fit model.json (channels, resolution, reference).
/// Thread-safe for concurrent sampling (sessions are).
/// </summary>
public sealed class InpaintingModel : IDisposable
{
    public ModelPackage Package { get; }
    public OrtSession Denoiser { get; }
    public OrtSession? VaeEncoder { get; }
    public OrtSession? VaeDecoder { get; }
    public OrtSession? ReferenceEncoder { get; }
    /// <summary>Element type of the denoiser's timestep input (int64 or float32; the graph decides).</summary>
    public TensorElementType TimestepType { get; }
    /// <summary>Unconditional reference (CFG's null branch) for one item: zeros, or the package's null file.</summary>
    public float[] NullReference { get; }
    /// <summary>Length of one item's reference as the denoiser takes it (refC·S·S for images, D for embeddings).</summary>
    public int DenoiserReferenceLength { get; }
    /// <summary>Shape of one item's reference as the denoiser takes it (without the batch dimension).</summary>
    public long[] DenoiserReferenceShape { get; }

    private InpaintingModel(ModelPackage package, OrtSessionOptions options)
    {
        Package = package;
        var opened = new List<OrtSession>();
        try
        {
            OrtSession Open(ModelComponent c)
            {
                OrtSession s;
                try { s = OrtSession.Open(package.PathOf(c.File), options); }
                catch (OrtException e) when (e is not OrtExecutionProviderException)
                {
                    throw new ModelPackageException(package.Name, c.Name, $"ONNX Runtime cannot load '{c.File}': {e.OrtMessage}", e);
                }
                opened.Add(s);
                CheckBindings(package, c, s);
                return s;
            }
            Denoiser = Open(package.Denoiser);
            VaeEncoder = package.VaeEncoder is { } ve ? Open(ve) : null;
            VaeDecoder = package.VaeDecoder is { } vd ? Open(vd) : null;
            ReferenceEncoder = package.ReferenceEncoder is { } re ? Open(re) : null;

            int n = package.SampleChannels, s = package.SampleSize, c = package.ImageChannels, res = package.Resolution;
            var d = package.Denoiser;
            Expect(package, d, Denoiser, d.Input(R.Sample)!, [n, s, s]);
            Expect(package, d, Denoiser, d.Outputs[R.Prediction], [n, s, s], output: true);
            if (d.Input(R.Mask) is { } m) Expect(package, d, Denoiser, m, [package.Modalities.Count, s, s]);
            if (d.Input(R.Box) is { } bx) Expect(package, d, Denoiser, bx, [package.Modalities.Count, 8, 3]);
            if (d.Input(R.MaskedContext) is { } mc) Expect(package, d, Denoiser, mc, [n, s, s]);
            if (d.Input(R.DetailMap) is { } hf) Expect(package, d, Denoiser, hf, [n, s, s]);
            var t = Denoiser.FindInput(d.Input(R.Timestep)!)!;
            if (t.ElementType is not (TensorElementType.Int64 or TensorElementType.Float) || t.Dimensions.Count != 1)
                throw new ModelPackageException(package.Name, "denoiser", $"timestep input '{t.Name}' must be a 1-D int64 or float32 tensor [batch], the graph declares {t.ElementType} {t.ShapeText}");
            TimestepType = t.ElementType;

            var rs = package.Reference.Size;
            var rc = package.Reference.Channels;
            if (package.Reference.Input == ReferenceInput.Embedding)
            {
                var re2 = package.ReferenceEncoder!;
                Expect(package, re2, ReferenceEncoder!, re2.Input(R.Image)!, [rc, rs, rs]);
                var emb = ReferenceEncoder!.FindOutput(re2.Outputs[R.Embedding])!;
                var dims = emb.Dimensions.Skip(1).ToArray();
                if (dims.Any(x => x <= 0)) throw new ModelPackageException(package.Name, "referenceEncoder", $"embedding output '{emb.Name}' must have a fixed shape after the batch dimension, the graph declares {emb.ShapeText}");
                DenoiserReferenceShape = dims;
            }
            else DenoiserReferenceShape = [rc, rs, rs];
            DenoiserReferenceLength = (int)DenoiserReferenceShape.Aggregate(1L, (a, b) => a * b);
            if (d.Input(R.Reference) is { } rin) Expect(package, d, Denoiser, rin, DenoiserReferenceShape.Select(x => (int)x).ToArray());

            if (package.Kind == ModelKind.Latent)
            {
                Expect(package, package.VaeEncoder!, VaeEncoder!, package.VaeEncoder!.Input(R.Image)!, [c, res, res]);
                Expect(package, package.VaeEncoder!, VaeEncoder!, package.VaeEncoder!.Outputs[R.Latent], [n, s, s], output: true);
                Expect(package, package.VaeDecoder!, VaeDecoder!, package.VaeDecoder!.Input(R.Latent)!, [n, s, s]);
                Expect(package, package.VaeDecoder!, VaeDecoder!, package.VaeDecoder!.Outputs[R.Image], [c, res, res], output: true);
            }

            NullReference = new float[DenoiserReferenceLength];
            if (!package.Reference.NullIsZeros)
            {
                var bytes = File.ReadAllBytes(package.PathOf(package.Reference.Null));
                if (bytes.Length != DenoiserReferenceLength * 4)
                    throw new ModelPackageException(package.Name, "reference", $"null reference file '{package.Reference.Null}' has {bytes.Length} bytes; the denoiser's reference [{string.Join(", ", DenoiserReferenceShape)}] needs {DenoiserReferenceLength * 4} (raw float32 little-endian)");
                for (var i = 0; i < NullReference.Length; i++) NullReference[i] = BitConverter.ToSingle(bytes, 4 * i);
            }
        }
        catch
        {
            foreach (var s in opened) s.Dispose();
            throw;
        }
    }

    /// <summary>Opens the sessions of <paramref name="package"/> and checks its bindings against the graphs.</summary>
    public static InpaintingModel Open(ModelPackage package, OrtSessionOptions? options = null) =>
        new(package, options ?? new OrtSessionOptions());

    private static void CheckBindings(ModelPackage package, ModelComponent c, OrtSession s)
    {
        foreach (var (role, name) in c.Inputs)
            if (s.FindInput(name) is null)
                throw new ModelPackageException(package.Name, c.Name, $"role '{role}' is bound to input '{name}', which the graph does not have (graph inputs: {string.Join(", ", s.Inputs.Select(i => i.Name))})");
        foreach (var (role, name) in c.Outputs)
            if (s.FindOutput(name) is null)
                throw new ModelPackageException(package.Name, c.Name, $"role '{role}' is bound to output '{name}', which the graph does not have (graph outputs: {string.Join(", ", s.Outputs.Select(i => i.Name))})");
        var bound = c.Inputs.Values.ToHashSet(StringComparer.Ordinal);
        foreach (var i in s.Inputs)
            if (!bound.Contains(i.Name))
                throw new ModelPackageException(package.Name, c.Name, $"graph input '{i.Name}' {i.ShapeText} is not bound to any role in model.json");
    }

    /// <summary>Checks that a graph tensor is float32 [batch, ...dims] with fixed dims equal to what model.json implies.</summary>
    private static void Expect(ModelPackage package, ModelComponent c, OrtSession s, string name, int[] dims, bool output = false)
    {
        var node = (output ? s.FindOutput(name) : s.FindInput(name))!;
        var expected = "[batch, " + string.Join(", ", dims) + "]";
        if (node.ElementType != TensorElementType.Float)
            throw new ModelPackageException(package.Name, c.Name, $"{(output ? "output" : "input")} '{name}' is {node.ElementType}; the sampler feeds float32");
        var ok = node.Dimensions.Count == dims.Length + 1;
        for (var i = 0; ok && i < dims.Length; i++) ok = node.Dimensions[i + 1] < 0 || node.Dimensions[i + 1] == dims[i];
        if (!ok)
            throw new ModelPackageException(package.Name, c.Name, $"{(output ? "output" : "input")} '{name}' is declared {node.ShapeText} in the graph, but model.json implies {expected}");
    }

    public void Dispose()
    {
        Denoiser.Dispose();
        VaeEncoder?.Dispose();
        VaeDecoder?.Dispose();
        ReferenceEncoder?.Dispose();
    }
}
