using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Pipeline.Inference.Onnx;

/// <summary>How to find and start ONNX Runtime.</summary>
public sealed record OrtRuntimeOptions
{
    /// <summary>Path of libonnxruntime.so; null: see <see cref="OrtLibraryLocator"/>.</summary>
    public string? LibraryPath { get; init; }

    /// <summary>
    /// C API version to request; null negotiates the newest version both this binding
    /// (<c>OrtApi.MaximumApiVersion</c>) and the library support, down to the oldest this binding needs.
    /// </summary>
    public uint? ApiVersion { get; init; }

    /// <summary>ORT's logging severity for the environment (0 verbose .. 4 fatal); default 3 = errors only.</summary>
    public int LogSeverity { get; init; } = 3;
}

/// <summary>
/// A loaded ONNX Runtime: the native library, the negotiated <c>OrtApi</c> table and the process-wide
/// <c>OrtEnv</c>. One instance per (library, API version) for the life of the process, because ORT itself keeps a
/// single environment per process; get it with <see cref="Load"/>.
/// </summary>
public sealed unsafe class OrtRuntime
{
    private static readonly ConcurrentDictionary<(string Path, uint? Version), Lazy<OrtRuntime>> Loaded = new();

    internal OrtApi Api { get; }
    internal OrtObjectHandle Env { get; }
    internal OrtObjectHandle CpuMemoryInfo { get; }
    internal nint DefaultAllocator { get; }

    /// <summary>Absolute path of the loaded native library.</summary>
    public string LibraryPath { get; }
    /// <summary>The library's version string (OrtApiBase::GetVersionString), e.g. "1.30.0".</summary>
    public string Version { get; }
    /// <summary>The C API version negotiated with the library.</summary>
    public uint ApiVersion => Api.Version;
    /// <summary>The library's build description (OrtApi::GetBuildInfoString).</summary>
    public string BuildInfo { get; }
    /// <summary>Execution providers compiled into the library (e.g. CPUExecutionProvider, CUDAExecutionProvider).</summary>
    public IReadOnlyList<string> AvailableProviders { get; }

    /// <summary>Loads (once per process) the library located from <paramref name="options"/>.</summary>
    public static OrtRuntime Load(OrtRuntimeOptions? options = null)
    {
        options ??= new OrtRuntimeOptions();
        var path = OrtLibraryLocator.Locate(options.LibraryPath);
        var lazy = Loaded.GetOrAdd((path, options.ApiVersion), key => new Lazy<OrtRuntime>(() => new OrtRuntime(key.Path, options)));
        try { return lazy.Value; }
        catch { Loaded.TryRemove(new KeyValuePair<(string, uint?), Lazy<OrtRuntime>>((path, options.ApiVersion), lazy)); throw; }
    }

    private OrtRuntime(string path, OrtRuntimeOptions options)
    {
        LibraryPath = path;
        nint lib;
        try { lib = NativeLibrary.Load(path); }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            throw new OrtLibraryException($"ONNX Runtime library '{path}' could not be loaded: {e.Message}", e);
        }
        if (!NativeLibrary.TryGetExport(lib, "OrtGetApiBase", out var getApiBase))
            throw new OrtLibraryException($"'{path}' is not an ONNX Runtime library: it has no OrtGetApiBase export.");

        // struct OrtApiBase { const OrtApi* (*GetApi)(uint32_t version); const char* (*GetVersionString)(void); }
        var apiBase = (nint*)((delegate* unmanaged<nint>)getApiBase)();
        var getApi = (delegate* unmanaged<uint, nint>)apiBase[0];
        var getVersionString = (delegate* unmanaged<byte*>)apiBase[1];
        Version = Marshal.PtrToStringUTF8((nint)getVersionString()) ?? "unknown";

        nint table = 0;
        uint version = 0;
        if (options.ApiVersion is { } wanted)
        {
            // Newer tables only append entries, so any version from the minimum up keeps the indices used here.
            if (wanted < OrtApi.MinimumApiVersion)
                throw new OrtLibraryException($"C API version {wanted} was requested, but this binding needs version {OrtApi.MinimumApiVersion} or newer.");
            table = getApi(wanted);
            version = wanted;
            if (table == 0)
                throw new OrtLibraryException($"ONNX Runtime {Version} at '{path}' does not support C API version {wanted} (too old for it); use ORT 1.{wanted} or newer.");
        }
        else
        {
            for (version = OrtApi.MaximumApiVersion; version >= OrtApi.MinimumApiVersion && table == 0; version--)
                table = getApi(version);
            version++;
            if (table == 0)
                throw new OrtLibraryException($"ONNX Runtime {Version} at '{path}' supports none of the C API versions {OrtApi.MinimumApiVersion}..{OrtApi.MaximumApiVersion} this binding needs.");
        }
        Api = new OrtApi(table, version);

        BuildInfo = Marshal.PtrToStringUTF8((nint)Api.GetBuildInfoString()) ?? "";
        AvailableProviders = ReadProviders(Api);

        nint env;
        var logId = OrtApi.Utf8z("pipeline");
        fixed (byte* p = logId) Api.Check(Api.CreateEnv(Math.Clamp(options.LogSeverity, 0, 4), p, &env), "CreateEnv");
        Env = new OrtObjectHandle(env, Api.ReleaseEnv);

        nint memoryInfo;
        // OrtDeviceAllocator = 0, OrtMemTypeDefault = 0: plain CPU memory owned by the caller.
        Api.Check(Api.CreateCpuMemoryInfo(0, 0, &memoryInfo), "CreateCpuMemoryInfo");
        CpuMemoryInfo = new OrtObjectHandle(memoryInfo, Api.ReleaseMemoryInfo);

        nint allocator;
        Api.Check(Api.GetAllocatorWithDefaultOptions(&allocator), "GetAllocatorWithDefaultOptions");
        DefaultAllocator = allocator; // owned by ORT, never released
    }

    private static string[] ReadProviders(OrtApi api)
    {
        byte** list;
        int count;
        api.Check(api.GetAvailableProviders(&list, &count), "GetAvailableProviders");
        try
        {
            var result = new string[count];
            for (var i = 0; i < count; i++) result[i] = Marshal.PtrToStringUTF8((nint)list[i]) ?? "";
            return result;
        }
        finally { api.Check(api.ReleaseAvailableProviders(list, count), "ReleaseAvailableProviders"); }
    }

    /// <summary>
    /// Creates an <c>OrtStatus</c> with the given code and message and reads it back through the table
    /// (CreateStatus, GetErrorCode, GetErrorMessage, ReleaseStatus): a self-test of the table layout.
    /// </summary>
    public (OrtErrorCode Code, string Message) RoundTripStatus(OrtErrorCode code, string message)
    {
        var bytes = OrtApi.Utf8z(message);
        nint status;
        fixed (byte* p = bytes) status = Api.CreateStatus((int)code, p);
        if (status == 0) throw new OrtException("CreateStatus returned null");
        return Api.ReadAndRelease(status);
    }

    /// <summary>Opens a session over an ONNX file.</summary>
    public OrtSession OpenSession(string modelPath, OrtSessionOptions? options = null) => new(this, modelPath, options ?? new OrtSessionOptions());
}
