namespace Pipeline.Inference.Onnx;

/// <summary>An ONNX Runtime call failed: carries ORT's error code and its own message.</summary>
public class OrtException : Exception
{
    public OrtException(OrtErrorCode code, string message, string ortMessage, Exception? inner = null) : base(message, inner)
    {
        ErrorCode = code;
        OrtMessage = ortMessage;
    }

    public OrtException(string message, Exception? inner = null) : base(message, inner)
    {
        ErrorCode = OrtErrorCode.Fail;
        OrtMessage = message;
    }

    /// <summary>ORT's error code (<see cref="OrtErrorCode.Fail"/> for errors raised by this binding itself).</summary>
    public OrtErrorCode ErrorCode { get; }

    /// <summary>The message exactly as ORT returned it.</summary>
    public string OrtMessage { get; }
}

/// <summary>The ONNX Runtime native library could not be found or loaded, or does not offer the C API version needed.</summary>
public sealed class OrtLibraryException(string message, Exception? inner = null) : OrtException(message, inner);

/// <summary>A tensor handed to a session does not fit the graph's input or output (name, element type or shape).</summary>
public sealed class OrtShapeException(string message) : OrtException(OrtErrorCode.InvalidArgument, message, message);

/// <summary>The requested execution provider is not available in the loaded ONNX Runtime library.</summary>
public sealed class OrtExecutionProviderException(string message, Exception? inner = null) : OrtException(message, inner);
