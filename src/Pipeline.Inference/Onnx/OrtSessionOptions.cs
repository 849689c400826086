using Microsoft.ML.OnnxRuntime;

namespace Pipeline.Inference.Onnx;

/// <summary>Where a session's operators run.</summary>
public enum OrtExecutionProvider { Cpu, Cuda }

/// <summary>
/// Options for one session: the official <see cref="SessionOptions"/> settings the project tunes, plus the execution
/// provider choice. <see cref="OrtSession.Open"/> turns them into a <see cref="SessionOptions"/>.
/// </summary>
public sealed record OrtSessionOptions
{
    /// <summary>Threads for one operator; 0 = ORT's default (one per physical core).</summary>
    public int IntraOpThreads { get; init; }
    /// <summary>Threads across operators in <see cref="ExecutionMode.ORT_PARALLEL"/> mode; 0 = ORT's default.</summary>
    public int InterOpThreads { get; init; }
    public GraphOptimizationLevel GraphOptimization { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;
    public ExecutionMode ExecutionMode { get; init; } = ExecutionMode.ORT_SEQUENTIAL;
    /// <summary>Memory pattern planning: helps fixed-shape repeated runs.</summary>
    public bool EnableMemoryPattern { get; init; } = true;
    /// <summary>CPU memory arena.</summary>
    public bool EnableCpuMemArena { get; init; } = true;
    public OrtExecutionProvider ExecutionProvider { get; init; } = OrtExecutionProvider.Cpu;
    /// <summary>CUDA device ordinal (CUDA provider option <c>device_id</c>).</summary>
    public int CudaDeviceId { get; init; }
    /// <summary>Further CUDA provider options by their ORT key (e.g. "gpu_mem_limit", "cudnn_conv_algo_search").</summary>
    public IReadOnlyDictionary<string, string>? CudaOptions { get; init; }
    /// <summary>
    /// When CUDA was asked for but this process's ONNX Runtime has no usable CUDA provider: true runs on the CPU and
    /// says so in <see cref="OrtSession.ExecutionProviderNote"/>; false (the default) throws
    /// <see cref="OrtExecutionProviderException"/>.
    /// </summary>
    public bool FallbackToCpu { get; init; }
    /// <summary>
    /// Whether the intra-op thread pool's threads spin while they wait for work (ORT's default,
    /// <c>session.intra_op.allow_spinning</c> = 1). Spinning saves a wake-up per operator but burns the cores it waits
    /// on; off gives them back to other work on the same machine (the local host's CPU stages beside the sampler).
    /// Results are the same either way.
    /// </summary>
    public bool AllowSpinning { get; init; } = true;
    /// <summary>ORT's session log severity.</summary>
    public OrtLoggingLevel LogSeverity { get; init; } = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR;
}
