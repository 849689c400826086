using Microsoft.ML.OnnxRuntime;

namespace Pipeline.Inference.Onnx;

/// <summary>
/// The process's ONNX Runtime environment (the official <see cref="OrtEnv"/> singleton), created once with ORT's own
/// logging limited to errors, and what it reports: the native library's version and its execution providers.
/// The native library is the one the Microsoft.ML.OnnxRuntime package (or, with <c>-p:OnnxRuntimeFlavor=Gpu</c>,
/// Microsoft.ML.OnnxRuntime.Gpu.Linux) put beside the application.
/// </summary>
public static class OrtEnvironment
{
    private static readonly Lazy<OrtEnv> Env = new(() =>
    {
        var options = new EnvironmentCreationOptions { logId = "pipeline", logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        return OrtEnv.CreateInstanceWithOptions(ref options);
    });

    /// <summary>The environment (created on first use).</summary>
    public static OrtEnv Instance => Env.Value;

    /// <summary>The native library's version, e.g. "1.31.1".</summary>
    public static string Version => Instance.GetVersionString();

    /// <summary>Execution providers compiled into the native library (e.g. CPUExecutionProvider, CUDAExecutionProvider).</summary>
    public static IReadOnlyList<string> AvailableProviders => Instance.GetAvailableProviders();
}
