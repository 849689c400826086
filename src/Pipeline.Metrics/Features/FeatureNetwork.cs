using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Pipeline.Inference.Onnx;

namespace Pipeline.Metrics.Features;

/// <summary>
/// A feature network (ONNX, run by ONNX Runtime through <see cref="OrtSession"/>) with its descriptor. Metrics computed with it
/// are reported under its name — FD[name], KID[name], LPIPS[name], CLIP-I[name] — so a stand-in can never pass for
/// the real network.
/// </summary>
public sealed class FeatureNetwork : IDisposable
{
    private readonly OrtSession _session;

    private FeatureNetwork(FeatureModelDescriptor descriptor, OrtSession session)
    {
        Descriptor = descriptor; _session = session;
    }

    public FeatureModelDescriptor Descriptor { get; }

    /// <summary>Images per ONNX run.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Opens the feature model in <paramref name="folder"/> (feature-model.json + ONNX file).</summary>
    public static FeatureNetwork Open(string folder, OrtSessionOptions? options = null)
    {
        var d = FeatureModelDescriptor.Load(folder);
        var session = OrtSession.Open(Path.Combine(d.Folder, d.File), options);
        try
        {
            var input = session.FindInput(d.Input.Name)
                ?? throw new InvalidDataException($"feature model '{d.Name}': the ONNX graph has no input '{d.Input.Name}' (inputs: {string.Join(", ", session.Inputs.Select(i => i.Name))})");
            var why = input.Mismatch(TensorElementType.Float, [1, 3, d.Input.Height, d.Input.Width]);
            if (why != null) throw new InvalidDataException($"feature model '{d.Name}': input '{d.Input.Name}' does not take a [batch, 3, {d.Input.Height}, {d.Input.Width}] float tensor: {why}");
            foreach (var name in d.Kind == FeatureModelKind.Lpips ? d.Layers.Select(l => l.Name) : [d.Output!.Name])
                if (session.FindOutput(name) is null)
                    throw new InvalidDataException($"feature model '{d.Name}': the ONNX graph has no output '{name}' (outputs: {string.Join(", ", session.Outputs.Select(o => o.Name))})");
            return new FeatureNetwork(d, session);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The name a metric is reported under with this network, e.g. MetricName("FD") = "FD[tiny-feat]".</summary>
    public string MetricName(string metric) => $"{metric}[{Descriptor.Name}]";

    /// <summary>Feature vectors (kind features or embedding) of <paramref name="images"/>, row after row: count x dim.</summary>
    public float[] Extract(IReadOnlyList<FeatureImage> images, CancellationToken cancellationToken = default)
    {
        if (Descriptor.Kind == FeatureModelKind.Lpips)
            throw new InvalidOperationException($"feature model '{Descriptor.Name}' is an LPIPS backbone; use Lpips.Compute, not Extract");
        int dim = Descriptor.Output!.Dim;
        var result = new float[images.Count * dim];
        for (int start = 0; start < images.Count; start += BatchSize)
        {
            int n = Math.Min(BatchSize, images.Count - start);
            var outputs = Run(images, start, n, [(Descriptor.Output.Name, [n, dim])], cancellationToken);
            outputs[0].AsSpan().CopyTo(result.AsSpan(start * dim, n * dim));
        }
        return result;
    }

    /// <summary>Layer activations (kind lpips) of a batch: for each layer, [n, C, H, W] values and that shape.</summary>
    internal IReadOnlyList<(float[] Values, long[] Shape)> Activations(IReadOnlyList<FeatureImage> images, CancellationToken cancellationToken)
    {
        int n = images.Count;
        var specs = Descriptor.Layers.Select(l =>
        {
            var info = _session.FindOutput(l.Name)!;
            var shape = info.Dimensions.Select((dim, i) => i == 0 ? n : dim).ToArray();
            if (shape.Length != 4 || shape.Skip(1).Any(x => x <= 0))
                throw new InvalidDataException($"feature model '{Descriptor.Name}': layer '{l.Name}' must be a [batch, C, H, W] output with fixed C, H, W; the graph declares {info.ShapeText}");
            if (shape[1] != l.Weights.Length)
                throw new InvalidDataException($"feature model '{Descriptor.Name}': layer '{l.Name}' has {shape[1]} channels but {l.Weights.Length} head weights");
            return (l.Name, shape);
        }).ToList();
        var values = Run(images, 0, n, specs, cancellationToken);
        return values.Select((v, i) => (v, specs[i].shape)).ToList();
    }

    private float[][] Run(IReadOnlyList<FeatureImage> images, int start, int n, IReadOnlyList<(string Name, long[] Shape)> outputs, CancellationToken cancellationToken)
    {
        var s = Descriptor.Input;
        int plane = 3 * s.Width * s.Height;
        var input = new float[n * plane];
        for (int i = 0; i < n; i++) FeatureInputPreparation.Prepare(images[start + i], s, input.AsSpan(i * plane, plane));
        using var tin = OrtValue.CreateTensorValueFromMemory(input, [n, 3, s.Height, s.Width]);
        var buffers = outputs.Select(o => new float[o.Shape.Aggregate(1L, (a, b) => a * b)]).ToArray();
        var tensors = outputs.Select((o, i) => OrtValue.CreateTensorValueFromMemory(buffers[i], o.Shape)).ToArray();
        try
        {
            _session.Run([s.Name], [tin], outputs.Select(o => o.Name).ToArray(), tensors, cancellationToken);
        }
        finally
        {
            foreach (var t in tensors) t.Dispose();
        }
        foreach (var (b, o) in buffers.Zip(outputs))
            if (b.Any(v => !float.IsFinite(v)))
                throw new InvalidDataException($"feature model '{Descriptor.Name}': output '{o.Name}' holds non-finite values for {images[start].Name}..; the model or its input range is wrong");
        return buffers;
    }

    public void Dispose() => _session.Dispose();
}
