namespace Pipeline.Inference.Onnx;

/// <summary>
/// An ONNX Runtime operation on a model failed. <see cref="Exception.Message"/> names the model and the operation;
/// <see cref="OrtMessage"/> is ORT's own message (from its <c>OnnxRuntimeException</c>, the inner exception) or, for
/// problems this layer finds before ORT is called, the same text.
/// </summary>
public class OrtException : Exception
{
    public OrtException(string message, string ortMessage, Exception? inner = null) : base(message, inner) => OrtMessage = ortMessage;

    public OrtException(string message, Exception? inner = null) : this(message, message, inner) { }

    /// <summary>The message exactly as ORT returned it.</summary>
    public string OrtMessage { get; }
}

/// <summary>A tensor handed to a session does not fit the graph's input or output (name, element type or shape).</summary>
public sealed class OrtShapeException(string message) : OrtException(message);

/// <summary>The requested execution provider cannot be used with the ONNX Runtime build this process loaded.</summary>
public sealed class OrtExecutionProviderException(string message, Exception? inner = null) : OrtException(message, inner);
