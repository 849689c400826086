using System.Runtime.InteropServices;

namespace Pipeline.Inference.Onnx;

/// <summary>One graph input or output: name, element type and shape (-1 where the dimension is dynamic).</summary>
public sealed record OrtNodeInfo(string Name, OrtElementType ElementType, IReadOnlyList<long> Dimensions, IReadOnlyList<string> SymbolicDimensions)
{
    /// <summary>Shape as text, symbolic dimensions by name: e.g. [batch, 1, 16, 16].</summary>
    public string ShapeText => "[" + string.Join(", ", Dimensions.Select((d, i) => d >= 0 ? d.ToString() : SymbolicDimensions[i] is { Length: > 0 } s ? s : "?")) + "]";

    /// <summary>Why a tensor of this element type and shape does not fit, or null when it does.</summary>
    public string? Mismatch(OrtElementType type, ReadOnlySpan<long> shape)
    {
        if (type != ElementType) return $"element type {type}, but the graph declares {ElementType}";
        if (shape.Length != Dimensions.Count) return $"rank {shape.Length} [{string.Join(", ", shape.ToArray())}], but the graph declares {ShapeText}";
        for (var i = 0; i < shape.Length; i++)
            if (Dimensions[i] >= 0 && Dimensions[i] != shape[i])
                return $"shape [{string.Join(", ", shape.ToArray())}], but the graph declares {ShapeText} (dimension {i} must be {Dimensions[i]})";
        return null;
    }
}

/// <summary>
/// An inference session over one ONNX graph (<c>OrtSession</c>). Runs are thread-safe (ORT's guarantee for
/// OrtApi::Run) and write into caller-provided output tensors.
/// </summary>
public sealed unsafe class OrtSession : IDisposable
{
    private readonly OrtRuntime _runtime;
    private readonly OrtObjectHandle _session;
    private readonly Dictionary<string, int> _inputIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _outputIndex = new(StringComparer.Ordinal);
    private readonly nint[] _inputNames;   // native NUL-terminated UTF-8 copies, freed on dispose
    private readonly nint[] _outputNames;
    private int _disposed;

    /// <summary>The ONNX file this session runs.</summary>
    public string ModelPath { get; }
    public IReadOnlyList<OrtNodeInfo> Inputs { get; }
    public IReadOnlyList<OrtNodeInfo> Outputs { get; }
    /// <summary>The provider the session was created with ("CUDAExecutionProvider" or "CPUExecutionProvider").</summary>
    public string ExecutionProvider { get; }
    /// <summary>Why the session runs on another provider than asked (CPU fallback), or null.</summary>
    public string? ExecutionProviderNote { get; }

    internal OrtSession(OrtRuntime runtime, string modelPath, OrtSessionOptions options)
    {
        _runtime = runtime;
        ModelPath = modelPath;
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"ONNX model '{modelPath}' does not exist.", modelPath);
        var api = runtime.Api;

        (ExecutionProvider, ExecutionProviderNote) = ("CPUExecutionProvider", null);
        nint session = 0;
        nint so = CreateSessionOptions(api, options);
        try
        {
            if (options.ExecutionProvider == OrtExecutionProvider.Cuda)
            {
                var failure = TryAppendCuda(runtime, so, options);
                if (failure is null) ExecutionProvider = "CUDAExecutionProvider";
                else if (options.FallbackToCpu)
                {
                    ExecutionProviderNote = $"CUDA was requested but is not usable ({failure}); running on the CPU as configured (FallbackToCpu).";
                    api.ReleaseSessionOptions(so);
                    so = 0;
                    so = CreateSessionOptions(api, options);
                }
                else throw new OrtExecutionProviderException($"CUDA was requested for '{modelPath}' but is not usable: {failure}. " +
                    "Use the onnxruntime-gpu build (PIPELINE_ORT_LIBRARY) or set FallbackToCpu to run on the CPU.");
            }
            var path = OrtApi.Utf8z(modelPath);
            fixed (byte* p = path) api.Check(api.CreateSession(runtime.Env.DangerousGetHandle(), p, so, &session), $"CreateSession('{modelPath}')");
        }
        finally { if (so != 0) api.ReleaseSessionOptions(so); }
        _session = new OrtObjectHandle(session, api.ReleaseSession);

        Inputs = ReadNodes(isInput: true);
        Outputs = ReadNodes(isInput: false);
        _inputNames = new nint[Inputs.Count];
        _outputNames = new nint[Outputs.Count];
        for (var i = 0; i < Inputs.Count; i++) { _inputIndex[Inputs[i].Name] = i; _inputNames[i] = Marshal.StringToCoTaskMemUTF8(Inputs[i].Name); }
        for (var i = 0; i < Outputs.Count; i++) { _outputIndex[Outputs[i].Name] = i; _outputNames[i] = Marshal.StringToCoTaskMemUTF8(Outputs[i].Name); }
    }

    private static nint CreateSessionOptions(OrtApi api, OrtSessionOptions o)
    {
        nint so;
        api.Check(api.CreateSessionOptions(&so), "CreateSessionOptions");
        try
        {
            if (o.IntraOpThreads < 0 || o.InterOpThreads < 0) throw new ArgumentOutOfRangeException(nameof(o), "thread counts must be >= 0 (0 = ORT default)");
            api.Check(api.SetIntraOpNumThreads(so, o.IntraOpThreads), "SetIntraOpNumThreads");
            api.Check(api.SetInterOpNumThreads(so, o.InterOpThreads), "SetInterOpNumThreads");
            api.Check(api.SetSessionGraphOptimizationLevel(so, (int)o.GraphOptimization), "SetSessionGraphOptimizationLevel");
            api.Check(api.SetSessionExecutionMode(so, (int)o.ExecutionMode), "SetSessionExecutionMode");
            api.Check(o.EnableMemoryPattern ? api.EnableMemPattern(so) : api.DisableMemPattern(so), "EnableMemPattern");
            api.Check(o.EnableCpuMemArena ? api.EnableCpuMemArena(so) : api.DisableCpuMemArena(so), "EnableCpuMemArena");
            api.Check(api.SetSessionLogSeverityLevel(so, Math.Clamp(o.LogSeverity, 0, 4)), "SetSessionLogSeverityLevel");
            return so;
        }
        catch { api.ReleaseSessionOptions(so); throw; }
    }

    /// <summary>Appends the CUDA provider (CreateCUDAProviderOptions, UpdateCUDAProviderOptions, ..._CUDA_V2); returns why not, or null.</summary>
    private static string? TryAppendCuda(OrtRuntime runtime, nint so, OrtSessionOptions o)
    {
        var api = runtime.Api;
        if (!runtime.AvailableProviders.Contains("CUDAExecutionProvider"))
            return $"ONNX Runtime {runtime.Version} at '{runtime.LibraryPath}' was built without the CUDA execution provider (available: {string.Join(", ", runtime.AvailableProviders)})";
        nint cuda;
        var status = api.CreateCUDAProviderOptions(&cuda);
        if (status != 0) return api.ReadAndRelease(status).Message;
        try
        {
            var entries = new Dictionary<string, string>(o.CudaOptions ?? new Dictionary<string, string>()) { ["device_id"] = o.CudaDeviceId.ToString() };
            var keys = entries.Keys.Select(OrtApi.Utf8z).ToArray();
            var values = entries.Values.Select(OrtApi.Utf8z).ToArray();
            var handles = keys.Concat(values).Select(b => GCHandle.Alloc(b, GCHandleType.Pinned)).ToArray();
            try
            {
                var k = stackalloc byte*[keys.Length];
                var v = stackalloc byte*[keys.Length];
                for (var i = 0; i < keys.Length; i++) { k[i] = (byte*)handles[i].AddrOfPinnedObject(); v[i] = (byte*)handles[keys.Length + i].AddrOfPinnedObject(); }
                status = api.UpdateCUDAProviderOptions(cuda, k, v, (nuint)keys.Length);
                if (status != 0) return api.ReadAndRelease(status).Message;
            }
            finally { foreach (var h in handles) h.Free(); }
            status = api.SessionOptionsAppendExecutionProvider_CUDA_V2(so, cuda);
            return status == 0 ? null : api.ReadAndRelease(status).Message;
        }
        finally { api.ReleaseCUDAProviderOptions(cuda); }
    }

    private OrtNodeInfo[] ReadNodes(bool isInput)
    {
        var api = _runtime.Api;
        var s = _session.DangerousGetHandle();
        nuint count;
        api.Check(isInput ? api.SessionGetInputCount(s, &count) : api.SessionGetOutputCount(s, &count), "SessionGetInputCount");
        var nodes = new OrtNodeInfo[(int)count];
        for (nuint i = 0; i < count; i++)
        {
            byte* name;
            api.Check(isInput ? api.SessionGetInputName(s, i, _runtime.DefaultAllocator, &name) : api.SessionGetOutputName(s, i, _runtime.DefaultAllocator, &name), "SessionGetInputName");
            string text;
            try { text = Marshal.PtrToStringUTF8((nint)name) ?? ""; }
            finally { api.Check(api.AllocatorFree(_runtime.DefaultAllocator, name), "AllocatorFree"); }

            nint typeInfo;
            api.Check(isInput ? api.SessionGetInputTypeInfo(s, i, &typeInfo) : api.SessionGetOutputTypeInfo(s, i, &typeInfo), "SessionGetInputTypeInfo");
            try
            {
                int onnxType;
                api.Check(api.GetOnnxTypeFromTypeInfo(typeInfo, &onnxType), "GetOnnxTypeFromTypeInfo");
                if (onnxType != 1) // ONNX_TYPE_TENSOR
                {
                    nodes[i] = new OrtNodeInfo(text, OrtElementType.Undefined, [], []);
                    continue;
                }
                nint tensorInfo; // owned by typeInfo: not released separately
                api.Check(api.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo), "CastTypeInfoToTensorInfo");
                var (type, dims, symbolic) = ReadTensorInfo(api, tensorInfo);
                nodes[i] = new OrtNodeInfo(text, type, dims, symbolic);
            }
            finally { api.ReleaseTypeInfo(typeInfo); }
        }
        return nodes;
    }

    internal static (OrtElementType Type, long[] Dims, string[] Symbolic) ReadTensorInfo(OrtApi api, nint info)
    {
        int type;
        api.Check(api.GetTensorElementType(info, &type), "GetTensorElementType");
        nuint rank;
        api.Check(api.GetDimensionsCount(info, &rank), "GetDimensionsCount");
        var dims = new long[(int)rank];
        var symbolic = new string[(int)rank];
        if (rank > 0)
        {
            fixed (long* d = dims) api.Check(api.GetDimensions(info, d, rank), "GetDimensions");
            var names = stackalloc byte*[(int)rank];
            api.Check(api.GetSymbolicDimensions(info, names, rank), "GetSymbolicDimensions");
            for (var k = 0; k < (int)rank; k++) symbolic[k] = names[k] == null ? "" : Marshal.PtrToStringUTF8((nint)names[k]) ?? "";
        }
        return ((OrtElementType)type, dims, symbolic);
    }

    /// <summary>
    /// Runs the graph on <paramref name="inputs"/> (bound to <paramref name="inputNames"/>) and writes into the
    /// pre-allocated <paramref name="outputs"/>. Every tensor is checked against the graph's declared element type and
    /// shape first, so a wrong shape is an <see cref="OrtShapeException"/> naming the model and the input.
    /// Cancellation terminates the run (RunOptionsSetTerminate) and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public void Run(ReadOnlySpan<string> inputNames, ReadOnlySpan<OrtTensor> inputs, ReadOnlySpan<string> outputNames, ReadOnlySpan<OrtTensor> outputs,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (inputNames.Length != inputs.Length || outputNames.Length != outputs.Length)
            throw new ArgumentException($"Run of '{ModelPath}': names and tensors differ in count.");
        cancellationToken.ThrowIfCancellationRequested();
        var n = inputs.Length; var m = outputs.Length;
        var inNames = stackalloc nint[n]; var inValues = stackalloc nint[n];
        var outNames = stackalloc nint[m]; var outValues = stackalloc nint[m];
        for (var i = 0; i < n; i++)
        {
            if (!_inputIndex.TryGetValue(inputNames[i], out var k))
                throw new OrtShapeException($"Model '{ModelPath}' has no input '{inputNames[i]}' (inputs: {string.Join(", ", Inputs.Select(x => x.Name))}).");
            var why = Inputs[k].Mismatch(inputs[i].ElementType, inputs[i].Shape);
            if (why != null) throw new OrtShapeException($"Model '{ModelPath}', input '{inputNames[i]}': got {why}.");
            inNames[i] = _inputNames[k]; inValues[i] = inputs[i].Handle;
        }
        for (var i = 0; i < m; i++)
        {
            if (!_outputIndex.TryGetValue(outputNames[i], out var k))
                throw new OrtShapeException($"Model '{ModelPath}' has no output '{outputNames[i]}' (outputs: {string.Join(", ", Outputs.Select(x => x.Name))}).");
            var why = Outputs[k].Mismatch(outputs[i].ElementType, outputs[i].Shape);
            if (why != null) throw new OrtShapeException($"Model '{ModelPath}', output '{outputNames[i]}': got {why}.");
            outNames[i] = _outputNames[k]; outValues[i] = outputs[i].Handle;
        }

        var api = _runtime.Api;
        nint runOptions = 0;
        CancellationTokenRegistration registration = default;
        var addRef = false;
        _session.DangerousAddRef(ref addRef);
        try
        {
            if (cancellationToken.CanBeCanceled)
            {
                api.Check(api.CreateRunOptions(&runOptions), "CreateRunOptions");
                var ro = runOptions;
                registration = cancellationToken.Register(() => api.RunOptionsSetTerminate(ro));
            }
            var status = api.Run(_session.DangerousGetHandle(), runOptions, inNames, inValues, (nuint)n, outNames, (nuint)m, outValues);
            registration.Dispose();
            if (status != 0)
            {
                var (code, message) = api.ReadAndRelease(status);
                cancellationToken.ThrowIfCancellationRequested();
                throw new OrtException(code, $"Run of '{ModelPath}' failed: {message}", message);
            }
            cancellationToken.ThrowIfCancellationRequested();
        }
        finally
        {
            registration.Dispose();
            if (runOptions != 0) api.ReleaseRunOptions(runOptions);
            if (addRef) _session.DangerousRelease();
        }
    }

    /// <summary>The input named <paramref name="name"/>, or null.</summary>
    public OrtNodeInfo? FindInput(string name) => _inputIndex.TryGetValue(name, out var i) ? Inputs[i] : null;
    /// <summary>The output named <paramref name="name"/>, or null.</summary>
    public OrtNodeInfo? FindOutput(string name) => _outputIndex.TryGetValue(name, out var i) ? Outputs[i] : null;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _session.Dispose();
        foreach (var p in _inputNames) Marshal.FreeCoTaskMem(p);
        foreach (var p in _outputNames) Marshal.FreeCoTaskMem(p);
    }
}
