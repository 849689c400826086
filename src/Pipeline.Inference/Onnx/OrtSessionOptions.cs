namespace Pipeline.Inference.Onnx;

/// <summary>Graph optimisation level (<c>GraphOptimizationLevel</c> in onnxruntime_c_api.h).</summary>
public enum OrtGraphOptimization { Disabled = 0, Basic = 1, Extended = 2, All = 99 }

/// <summary>Execution mode (<c>ExecutionMode</c>): operators one at a time, or independent branches in parallel.</summary>
public enum OrtExecutionMode { Sequential = 0, Parallel = 1 }

/// <summary>Where a session's operators run.</summary>
public enum OrtExecutionProvider { Cpu, Cuda }

/// <summary>Options for one session (the C API's OrtSessionOptions, plus the execution provider choice).</summary>
public sealed record OrtSessionOptions
{
    /// <summary>Threads for one operator; 0 = ORT's default (one per physical core).</summary>
    public int IntraOpThreads { get; init; }
    /// <summary>Threads across operators in <see cref="OrtExecutionMode.Parallel"/> mode; 0 = ORT's default.</summary>
    public int InterOpThreads { get; init; }
    public OrtGraphOptimization GraphOptimization { get; init; } = OrtGraphOptimization.All;
    public OrtExecutionMode ExecutionMode { get; init; } = OrtExecutionMode.Sequential;
    /// <summary>Memory pattern planning (EnableMemPattern/DisableMemPattern): helps fixed-shape repeated runs.</summary>
    public bool EnableMemoryPattern { get; init; } = true;
    /// <summary>CPU memory arena (EnableCpuMemArena/DisableCpuMemArena).</summary>
    public bool EnableCpuMemArena { get; init; } = true;
    public OrtExecutionProvider ExecutionProvider { get; init; } = OrtExecutionProvider.Cpu;
    /// <summary>CUDA device ordinal (CUDA provider option <c>device_id</c>).</summary>
    public int CudaDeviceId { get; init; }
    /// <summary>Further CUDA provider options by their C API key (e.g. "gpu_mem_limit", "cudnn_conv_algo_search").</summary>
    public IReadOnlyDictionary<string, string>? CudaOptions { get; init; }
    /// <summary>
    /// When CUDA was asked for but the loaded library has no CUDA provider (or it fails to start): true runs on the
    /// CPU and says so in <see cref="OrtSession.ExecutionProviderNote"/>; false (the default) throws
    /// <see cref="OrtExecutionProviderException"/>.
    /// </summary>
    public bool FallbackToCpu { get; init; }
    /// <summary>ORT's session log severity (0 verbose .. 4 fatal).</summary>
    public int LogSeverity { get; init; } = 3;
}
