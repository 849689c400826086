using Microsoft.ML.OnnxRuntime;

namespace Pipeline.Inference.Onnx;

/// <summary>
/// An inference session over one ONNX graph: the official <see cref="InferenceSession"/> with what the pipeline adds
/// around it: the execution provider chosen from <see cref="OrtSessionOptions"/> (CUDA with a clear message or a
/// configured CPU fallback), graph I/O as <see cref="OrtNodeInfo"/>, every tensor checked against the graph before ORT
/// runs (so a wrong shape names the model and the input), ORT's errors wrapped with the model's path, and cancellation.
/// Tensors are the caller's <see cref="OrtValue"/>s, usually laid over pinned managed buffers without a copy
/// (<see cref="OrtValue.CreateTensorValueFromMemory{T}(T[], long[])"/>); outputs are written into pre-allocated ones.
/// Runs are thread-safe (ORT's guarantee for concurrent <c>Run</c> calls on one session).
/// </summary>
public sealed class OrtSession : IDisposable
{
    private readonly Dictionary<string, int> _inputIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _outputIndex = new(StringComparer.Ordinal);
    private readonly RunOptions _defaultRunOptions;
    private int _disposed;

    /// <summary>The ONNX file this session runs.</summary>
    public string ModelPath { get; }
    /// <summary>The official session, for what this class does not wrap.</summary>
    public InferenceSession Session { get; }
    public IReadOnlyList<OrtNodeInfo> Inputs { get; }
    public IReadOnlyList<OrtNodeInfo> Outputs { get; }
    /// <summary>The provider the session was created with ("CUDAExecutionProvider" or "CPUExecutionProvider").</summary>
    public string ExecutionProvider { get; }
    /// <summary>Why the session runs on another provider than asked (CPU fallback), or null.</summary>
    public string? ExecutionProviderNote { get; }

    private OrtSession(string modelPath, InferenceSession session, string provider, string? note, OrtLoggingLevel logSeverity)
    {
        ModelPath = modelPath;
        Session = session;
        ExecutionProvider = provider;
        ExecutionProviderNote = note;
        Inputs = session.InputNames.Select(n => OrtNodeInfo.From(n, session.InputMetadata[n])).ToArray();
        Outputs = session.OutputNames.Select(n => OrtNodeInfo.From(n, session.OutputMetadata[n])).ToArray();
        for (var i = 0; i < Inputs.Count; i++) _inputIndex[Inputs[i].Name] = i;
        for (var i = 0; i < Outputs.Count; i++) _outputIndex[Outputs[i].Name] = i;
        _defaultRunOptions = new RunOptions { LogSeverityLevel = logSeverity };
    }

    /// <summary>
    /// Opens a session over <paramref name="modelPath"/>. A missing file is a <see cref="FileNotFoundException"/>; a
    /// file ORT cannot load is an <see cref="OrtException"/> naming it; CUDA asked for but not usable is an
    /// <see cref="OrtExecutionProviderException"/> unless <see cref="OrtSessionOptions.FallbackToCpu"/> is set.
    /// </summary>
    public static OrtSession Open(string modelPath, OrtSessionOptions? options = null)
    {
        options ??= new OrtSessionOptions();
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"ONNX model '{modelPath}' does not exist.", modelPath);
        if (options.IntraOpThreads < 0 || options.InterOpThreads < 0)
            throw new ArgumentOutOfRangeException(nameof(options), "thread counts must be >= 0 (0 = ORT's default)");
        _ = OrtEnvironment.Instance;

        if (options.ExecutionProvider == OrtExecutionProvider.Cuda)
        {
            string failure;
            using (var so = CreateSessionOptions(options))
            {
                failure = TryAppendCuda(so, options);
                if (failure.Length == 0)
                {
                    try { return new OrtSession(modelPath, Create(modelPath, so), "CUDAExecutionProvider", null, options.LogSeverity); }
                    catch (OrtException e) when (e.InnerException is OnnxRuntimeException) { failure = e.OrtMessage; }
                }
            }
            if (!options.FallbackToCpu)
                throw new OrtExecutionProviderException($"CUDA was requested for '{modelPath}' but is not usable: {failure}. " +
                    "Build with the GPU package (-p:OnnxRuntimeFlavor=Gpu, docs/inference.md) on a machine with the CUDA 13 runtime, cuBLAS and cuDNN 9, " +
                    "or set FallbackToCpu to run on the CPU.");
            using var cpu = CreateSessionOptions(options);
            return new OrtSession(modelPath, Create(modelPath, cpu), "CPUExecutionProvider",
                $"CUDA was requested but is not usable ({failure}); running on the CPU as configured (FallbackToCpu).", options.LogSeverity);
        }
        using var cpuOnly = CreateSessionOptions(options);
        return new OrtSession(modelPath, Create(modelPath, cpuOnly), "CPUExecutionProvider", null, options.LogSeverity);
    }

    private static InferenceSession Create(string modelPath, SessionOptions so)
    {
        try { return new InferenceSession(modelPath, so); }
        catch (OnnxRuntimeException e) { throw new OrtException($"ONNX Runtime cannot load '{modelPath}': {e.Message}", e.Message, e); }
    }

    private static SessionOptions CreateSessionOptions(OrtSessionOptions o)
    {
        var so = new SessionOptions();
        try
        {
            so.IntraOpNumThreads = o.IntraOpThreads;
            so.InterOpNumThreads = o.InterOpThreads;
            so.GraphOptimizationLevel = o.GraphOptimization;
            so.ExecutionMode = o.ExecutionMode;
            so.EnableMemoryPattern = o.EnableMemoryPattern;
            so.EnableCpuMemArena = o.EnableCpuMemArena;
            so.LogSeverityLevel = o.LogSeverity;
            if (!o.AllowSpinning) so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            return so;
        }
        catch { so.Dispose(); throw; }
    }

    /// <summary>Appends the CUDA provider with <c>device_id</c> and <see cref="OrtSessionOptions.CudaOptions"/>; returns why not, or "".</summary>
    private static string TryAppendCuda(SessionOptions so, OrtSessionOptions o)
    {
        var providers = OrtEnvironment.AvailableProviders;
        if (!providers.Contains("CUDAExecutionProvider"))
            return $"this process's ONNX Runtime {OrtEnvironment.Version} is the CPU build (providers: {string.Join(", ", providers)})";
        try
        {
            using var cuda = new OrtCUDAProviderOptions();
            cuda.UpdateOptions(new Dictionary<string, string>(o.CudaOptions ?? new Dictionary<string, string>()) { ["device_id"] = o.CudaDeviceId.ToString() });
            so.AppendExecutionProvider_CUDA(cuda);
            return "";
        }
        catch (OnnxRuntimeException e) { return e.Message; }
    }

    /// <summary>
    /// Runs the graph on <paramref name="inputs"/> (bound to <paramref name="inputNames"/>) and writes into the
    /// pre-allocated <paramref name="outputs"/>. Every tensor is checked against the graph's declared element type and
    /// shape first, so a wrong shape is an <see cref="OrtShapeException"/> naming the model and the input.
    /// Cancellation terminates the run (<see cref="RunOptions.Terminate"/>) and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public void Run(IReadOnlyList<string> inputNames, IReadOnlyList<OrtValue> inputs, IReadOnlyList<string> outputNames, IReadOnlyList<OrtValue> outputs,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        Check(inputNames, inputs, outputNames, outputs);
        Execute(ro => Session.Run(ro, inputNames, inputs, outputNames, outputs), cancellationToken);
    }

    /// <summary>
    /// Binds the tensors once (ORT's <see cref="OrtIoBinding"/>) for repeated runs over the same buffers: the caller
    /// rewrites the input buffers between <see cref="OrtBoundRun.Run"/> calls and reads the outputs in place. The tensors
    /// are checked as in <see cref="Run"/>, and must outlive the binding.
    /// </summary>
    public OrtBoundRun Bind(IReadOnlyList<string> inputNames, IReadOnlyList<OrtValue> inputs, IReadOnlyList<string> outputNames, IReadOnlyList<OrtValue> outputs)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        Check(inputNames, inputs, outputNames, outputs);
        var binding = Session.CreateIoBinding();
        try
        {
            for (var i = 0; i < inputs.Count; i++) binding.BindInput(inputNames[i], inputs[i]);
            for (var i = 0; i < outputs.Count; i++) binding.BindOutput(outputNames[i], outputs[i]);
        }
        catch (OnnxRuntimeException e)
        {
            binding.Dispose();
            throw new OrtException($"Binding the tensors of '{ModelPath}' failed: {e.Message}", e.Message, e);
        }
        catch { binding.Dispose(); throw; }
        return new OrtBoundRun(this, binding);
    }

    /// <summary>Runs <paramref name="run"/> with run options that cancellation terminates; wraps ORT's errors with the model's path.</summary>
    internal void Execute(Action<RunOptions> run, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (!cancellationToken.CanBeCanceled)
        {
            Wrap(run, _defaultRunOptions, cancellationToken);
            return;
        }
        using var ro = new RunOptions { LogSeverityLevel = _defaultRunOptions.LogSeverityLevel };
        using (cancellationToken.Register(() => ro.Terminate = true))
            Wrap(run, ro, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private void Wrap(Action<RunOptions> run, RunOptions ro, CancellationToken cancellationToken)
    {
        try { run(ro); }
        catch (OnnxRuntimeException e)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new OrtException($"Run of '{ModelPath}' failed: {e.Message}", e.Message, e);
        }
    }

    private void Check(IReadOnlyList<string> inputNames, IReadOnlyList<OrtValue> inputs, IReadOnlyList<string> outputNames, IReadOnlyList<OrtValue> outputs)
    {
        if (inputNames.Count != inputs.Count || outputNames.Count != outputs.Count)
            throw new ArgumentException($"Run of '{ModelPath}': names and tensors differ in count.");
        for (var i = 0; i < inputs.Count; i++)
        {
            if (!_inputIndex.TryGetValue(inputNames[i], out var k))
                throw new OrtShapeException($"Model '{ModelPath}' has no input '{inputNames[i]}' (inputs: {string.Join(", ", Inputs.Select(x => x.Name))}).");
            var why = Mismatch(Inputs[k], inputs[i]);
            if (why != null) throw new OrtShapeException($"Model '{ModelPath}', input '{inputNames[i]}': got {why}.");
        }
        for (var i = 0; i < outputs.Count; i++)
        {
            if (!_outputIndex.TryGetValue(outputNames[i], out var k))
                throw new OrtShapeException($"Model '{ModelPath}' has no output '{outputNames[i]}' (outputs: {string.Join(", ", Outputs.Select(x => x.Name))}).");
            var why = Mismatch(Outputs[k], outputs[i]);
            if (why != null) throw new OrtShapeException($"Model '{ModelPath}', output '{outputNames[i]}': got {why}.");
        }
    }

    private static string? Mismatch(OrtNodeInfo node, OrtValue value)
    {
        if (!value.IsTensor) return $"a {value.OnnxType} value, but the graph declares a tensor {node.ShapeText}";
        var info = value.GetTensorTypeAndShape();
        return node.Mismatch(info.ElementDataType, info.Shape);
    }

    /// <summary>The input named <paramref name="name"/>, or null.</summary>
    public OrtNodeInfo? FindInput(string name) => _inputIndex.TryGetValue(name, out var i) ? Inputs[i] : null;
    /// <summary>The output named <paramref name="name"/>, or null.</summary>
    public OrtNodeInfo? FindOutput(string name) => _outputIndex.TryGetValue(name, out var i) ? Outputs[i] : null;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Session.Dispose();
        _defaultRunOptions.Dispose();
    }
}
