using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Pipeline.Inference.Onnx;

/// <summary>One graph input or output: name, element type and shape (-1 where the dimension is dynamic).</summary>
public sealed record OrtNodeInfo(string Name, TensorElementType ElementType, IReadOnlyList<long> Dimensions, IReadOnlyList<string> SymbolicDimensions)
{
    /// <summary>Reads ORT's metadata of one node (non-tensor nodes get <see cref="TensorElementType.DataTypeMax"/> and no shape).</summary>
    internal static OrtNodeInfo From(string name, NodeMetadata metadata) => metadata.IsTensor
        ? new(name, metadata.ElementDataType, metadata.Dimensions.Select(d => (long)d).ToArray(),
            metadata.SymbolicDimensions.Select(s => s ?? "").ToArray())
        : new(name, TensorElementType.DataTypeMax, [], []);

    /// <summary>Shape as text, symbolic dimensions by name: e.g. [batch, 1, 16, 16].</summary>
    public string ShapeText => "[" + string.Join(", ", Dimensions.Select((d, i) => d >= 0 ? d.ToString() : SymbolicDimensions[i] is { Length: > 0 } s ? s : "?")) + "]";

    /// <summary>Why a tensor of this element type and shape does not fit, or null when it does.</summary>
    public string? Mismatch(TensorElementType type, ReadOnlySpan<long> shape)
    {
        if (type != ElementType) return $"element type {type}, but the graph declares {ElementType}";
        if (shape.Length != Dimensions.Count) return $"rank {shape.Length} [{string.Join(", ", shape.ToArray())}], but the graph declares {ShapeText}";
        for (var i = 0; i < shape.Length; i++)
            if (Dimensions[i] >= 0 && Dimensions[i] != shape[i])
                return $"shape [{string.Join(", ", shape.ToArray())}], but the graph declares {ShapeText} (dimension {i} must be {Dimensions[i]})";
        return null;
    }
}
