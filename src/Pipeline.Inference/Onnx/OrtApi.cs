using System.Runtime.InteropServices;
using System.Text;

namespace Pipeline.Inference.Onnx;

/// <summary>
/// The subset of the ONNX Runtime C API function table (<c>struct OrtApi</c> in onnxruntime_c_api.h) this binding uses.
/// The table is append-only across releases, so a function's index is an ABI fact: the position of its member in
/// <c>struct OrtApi</c>, counted from 0 (CreateStatus). The indices below were counted from the header of ORT 1.29
/// (ORT_API_VERSION 29) and are cross-checked by behaviour in the tests (status round trip, build info, providers).
/// Every entry used here exists since API version <see cref="MinimumApiVersion"/> (GetBuildInfoString, ORT 1.15).
/// </summary>
internal sealed unsafe class OrtApi
{
    /// <summary>The oldest C API version that has every function this binding calls.</summary>
    public const uint MinimumApiVersion = 15;
    /// <summary>The newest C API version whose table layout this binding was checked against (ORT 1.30).</summary>
    public const uint MaximumApiVersion = 30;

    // Indices into struct OrtApi (onnxruntime_c_api.h), named as in the header.
    internal const int IxCreateStatus = 0, IxGetErrorCode = 1, IxGetErrorMessage = 2, IxCreateEnv = 3,
        IxCreateSession = 7, IxRun = 9, IxCreateSessionOptions = 10, IxSetSessionExecutionMode = 13,
        IxEnableMemPattern = 16, IxDisableMemPattern = 17, IxEnableCpuMemArena = 18, IxDisableCpuMemArena = 19,
        IxSetSessionLogSeverityLevel = 22, IxSetSessionGraphOptimizationLevel = 23,
        IxSetIntraOpNumThreads = 24, IxSetInterOpNumThreads = 25,
        IxSessionGetInputCount = 30, IxSessionGetOutputCount = 31, IxSessionGetInputTypeInfo = 33,
        IxSessionGetOutputTypeInfo = 34, IxSessionGetInputName = 36, IxSessionGetOutputName = 37,
        IxCreateRunOptions = 39, IxRunOptionsSetTerminate = 46,
        IxCreateTensorWithDataAsOrtValue = 49, IxGetTensorMutableData = 51,
        IxCastTypeInfoToTensorInfo = 55, IxGetOnnxTypeFromTypeInfo = 56,
        IxGetTensorElementType = 60, IxGetDimensionsCount = 61, IxGetDimensions = 62, IxGetSymbolicDimensions = 63,
        IxGetTensorTypeAndShape = 65, IxCreateCpuMemoryInfo = 69, IxAllocatorFree = 76,
        IxGetAllocatorWithDefaultOptions = 78,
        IxReleaseEnv = 92, IxReleaseStatus = 93, IxReleaseMemoryInfo = 94, IxReleaseSession = 95, IxReleaseValue = 96,
        IxReleaseRunOptions = 97, IxReleaseTypeInfo = 98, IxReleaseTensorTypeAndShapeInfo = 99,
        IxReleaseSessionOptions = 100, IxGetAvailableProviders = 125, IxReleaseAvailableProviders = 126,
        IxSessionOptionsAppendExecutionProvider_CUDA_V2 = 204, IxCreateCUDAProviderOptions = 205,
        IxUpdateCUDAProviderOptions = 206, IxReleaseCUDAProviderOptions = 208, IxGetBuildInfoString = 254;

    public readonly delegate* unmanaged<int, byte*, nint> CreateStatus;
    public readonly delegate* unmanaged<nint, int> GetErrorCode;
    public readonly delegate* unmanaged<nint, byte*> GetErrorMessage;
    public readonly delegate* unmanaged<int, byte*, nint*, nint> CreateEnv;
    public readonly delegate* unmanaged<nint, byte*, nint, nint*, nint> CreateSession;
    public readonly delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint> Run;
    public readonly delegate* unmanaged<nint*, nint> CreateSessionOptions;
    public readonly delegate* unmanaged<nint, int, nint> SetSessionExecutionMode;
    public readonly delegate* unmanaged<nint, nint> EnableMemPattern, DisableMemPattern, EnableCpuMemArena, DisableCpuMemArena;
    public readonly delegate* unmanaged<nint, int, nint> SetSessionLogSeverityLevel, SetSessionGraphOptimizationLevel,
        SetIntraOpNumThreads, SetInterOpNumThreads;
    public readonly delegate* unmanaged<nint, nuint*, nint> SessionGetInputCount, SessionGetOutputCount;
    public readonly delegate* unmanaged<nint, nuint, nint*, nint> SessionGetInputTypeInfo, SessionGetOutputTypeInfo;
    public readonly delegate* unmanaged<nint, nuint, nint, byte**, nint> SessionGetInputName, SessionGetOutputName;
    public readonly delegate* unmanaged<nint*, nint> CreateRunOptions;
    public readonly delegate* unmanaged<nint, nint> RunOptionsSetTerminate;
    public readonly delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint> CreateTensorWithDataAsOrtValue;
    public readonly delegate* unmanaged<nint, void**, nint> GetTensorMutableData;
    public readonly delegate* unmanaged<nint, nint*, nint> CastTypeInfoToTensorInfo;
    public readonly delegate* unmanaged<nint, int*, nint> GetOnnxTypeFromTypeInfo;
    public readonly delegate* unmanaged<nint, int*, nint> GetTensorElementType;
    public readonly delegate* unmanaged<nint, nuint*, nint> GetDimensionsCount;
    public readonly delegate* unmanaged<nint, long*, nuint, nint> GetDimensions;
    public readonly delegate* unmanaged<nint, byte**, nuint, nint> GetSymbolicDimensions;
    public readonly delegate* unmanaged<nint, nint*, nint> GetTensorTypeAndShape;
    public readonly delegate* unmanaged<int, int, nint*, nint> CreateCpuMemoryInfo;
    public readonly delegate* unmanaged<nint, void*, nint> AllocatorFree;
    public readonly delegate* unmanaged<nint*, nint> GetAllocatorWithDefaultOptions;
    public readonly delegate* unmanaged<nint, void> ReleaseEnv, ReleaseStatus, ReleaseMemoryInfo, ReleaseSession,
        ReleaseValue, ReleaseRunOptions, ReleaseTypeInfo, ReleaseTensorTypeAndShapeInfo, ReleaseSessionOptions,
        ReleaseCUDAProviderOptions;
    public readonly delegate* unmanaged<byte***, int*, nint> GetAvailableProviders;
    public readonly delegate* unmanaged<byte**, int, nint> ReleaseAvailableProviders;
    public readonly delegate* unmanaged<nint, nint, nint> SessionOptionsAppendExecutionProvider_CUDA_V2;
    public readonly delegate* unmanaged<nint*, nint> CreateCUDAProviderOptions;
    public readonly delegate* unmanaged<nint, byte**, byte**, nuint, nint> UpdateCUDAProviderOptions;
    public readonly delegate* unmanaged<byte*> GetBuildInfoString;

    /// <summary>The C API version this table was obtained for.</summary>
    public uint Version { get; }

    public OrtApi(nint table, uint version)
    {
        Version = version;
        var t = (nint*)table;
        CreateStatus = (delegate* unmanaged<int, byte*, nint>)t[IxCreateStatus];
        GetErrorCode = (delegate* unmanaged<nint, int>)t[IxGetErrorCode];
        GetErrorMessage = (delegate* unmanaged<nint, byte*>)t[IxGetErrorMessage];
        CreateEnv = (delegate* unmanaged<int, byte*, nint*, nint>)t[IxCreateEnv];
        CreateSession = (delegate* unmanaged<nint, byte*, nint, nint*, nint>)t[IxCreateSession];
        Run = (delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint>)t[IxRun];
        CreateSessionOptions = (delegate* unmanaged<nint*, nint>)t[IxCreateSessionOptions];
        SetSessionExecutionMode = (delegate* unmanaged<nint, int, nint>)t[IxSetSessionExecutionMode];
        EnableMemPattern = (delegate* unmanaged<nint, nint>)t[IxEnableMemPattern];
        DisableMemPattern = (delegate* unmanaged<nint, nint>)t[IxDisableMemPattern];
        EnableCpuMemArena = (delegate* unmanaged<nint, nint>)t[IxEnableCpuMemArena];
        DisableCpuMemArena = (delegate* unmanaged<nint, nint>)t[IxDisableCpuMemArena];
        SetSessionLogSeverityLevel = (delegate* unmanaged<nint, int, nint>)t[IxSetSessionLogSeverityLevel];
        SetSessionGraphOptimizationLevel = (delegate* unmanaged<nint, int, nint>)t[IxSetSessionGraphOptimizationLevel];
        SetIntraOpNumThreads = (delegate* unmanaged<nint, int, nint>)t[IxSetIntraOpNumThreads];
        SetInterOpNumThreads = (delegate* unmanaged<nint, int, nint>)t[IxSetInterOpNumThreads];
        SessionGetInputCount = (delegate* unmanaged<nint, nuint*, nint>)t[IxSessionGetInputCount];
        SessionGetOutputCount = (delegate* unmanaged<nint, nuint*, nint>)t[IxSessionGetOutputCount];
        SessionGetInputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)t[IxSessionGetInputTypeInfo];
        SessionGetOutputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)t[IxSessionGetOutputTypeInfo];
        SessionGetInputName = (delegate* unmanaged<nint, nuint, nint, byte**, nint>)t[IxSessionGetInputName];
        SessionGetOutputName = (delegate* unmanaged<nint, nuint, nint, byte**, nint>)t[IxSessionGetOutputName];
        CreateRunOptions = (delegate* unmanaged<nint*, nint>)t[IxCreateRunOptions];
        RunOptionsSetTerminate = (delegate* unmanaged<nint, nint>)t[IxRunOptionsSetTerminate];
        CreateTensorWithDataAsOrtValue = (delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint>)t[IxCreateTensorWithDataAsOrtValue];
        GetTensorMutableData = (delegate* unmanaged<nint, void**, nint>)t[IxGetTensorMutableData];
        CastTypeInfoToTensorInfo = (delegate* unmanaged<nint, nint*, nint>)t[IxCastTypeInfoToTensorInfo];
        GetOnnxTypeFromTypeInfo = (delegate* unmanaged<nint, int*, nint>)t[IxGetOnnxTypeFromTypeInfo];
        GetTensorElementType = (delegate* unmanaged<nint, int*, nint>)t[IxGetTensorElementType];
        GetDimensionsCount = (delegate* unmanaged<nint, nuint*, nint>)t[IxGetDimensionsCount];
        GetDimensions = (delegate* unmanaged<nint, long*, nuint, nint>)t[IxGetDimensions];
        GetSymbolicDimensions = (delegate* unmanaged<nint, byte**, nuint, nint>)t[IxGetSymbolicDimensions];
        GetTensorTypeAndShape = (delegate* unmanaged<nint, nint*, nint>)t[IxGetTensorTypeAndShape];
        CreateCpuMemoryInfo = (delegate* unmanaged<int, int, nint*, nint>)t[IxCreateCpuMemoryInfo];
        AllocatorFree = (delegate* unmanaged<nint, void*, nint>)t[IxAllocatorFree];
        GetAllocatorWithDefaultOptions = (delegate* unmanaged<nint*, nint>)t[IxGetAllocatorWithDefaultOptions];
        ReleaseEnv = (delegate* unmanaged<nint, void>)t[IxReleaseEnv];
        ReleaseStatus = (delegate* unmanaged<nint, void>)t[IxReleaseStatus];
        ReleaseMemoryInfo = (delegate* unmanaged<nint, void>)t[IxReleaseMemoryInfo];
        ReleaseSession = (delegate* unmanaged<nint, void>)t[IxReleaseSession];
        ReleaseValue = (delegate* unmanaged<nint, void>)t[IxReleaseValue];
        ReleaseRunOptions = (delegate* unmanaged<nint, void>)t[IxReleaseRunOptions];
        ReleaseTypeInfo = (delegate* unmanaged<nint, void>)t[IxReleaseTypeInfo];
        ReleaseTensorTypeAndShapeInfo = (delegate* unmanaged<nint, void>)t[IxReleaseTensorTypeAndShapeInfo];
        ReleaseSessionOptions = (delegate* unmanaged<nint, void>)t[IxReleaseSessionOptions];
        ReleaseCUDAProviderOptions = (delegate* unmanaged<nint, void>)t[IxReleaseCUDAProviderOptions];
        GetAvailableProviders = (delegate* unmanaged<byte***, int*, nint>)t[IxGetAvailableProviders];
        ReleaseAvailableProviders = (delegate* unmanaged<byte**, int, nint>)t[IxReleaseAvailableProviders];
        SessionOptionsAppendExecutionProvider_CUDA_V2 = (delegate* unmanaged<nint, nint, nint>)t[IxSessionOptionsAppendExecutionProvider_CUDA_V2];
        CreateCUDAProviderOptions = (delegate* unmanaged<nint*, nint>)t[IxCreateCUDAProviderOptions];
        UpdateCUDAProviderOptions = (delegate* unmanaged<nint, byte**, byte**, nuint, nint>)t[IxUpdateCUDAProviderOptions];
        GetBuildInfoString = (delegate* unmanaged<byte*>)t[IxGetBuildInfoString];
    }

    /// <summary>
    /// Turns a returned <c>OrtStatus*</c> into an exception carrying ORT's error code and message (and releases the
    /// status); a null status is success.
    /// </summary>
    public void Check(nint status, string operation)
    {
        if (status == 0) return;
        var (code, message) = ReadAndRelease(status);
        throw new OrtException(code, $"{operation}: {message}", message);
    }

    /// <summary>Reads code and message of a non-null status and releases it.</summary>
    public (OrtErrorCode Code, string Message) ReadAndRelease(nint status)
    {
        try
        {
            var code = (OrtErrorCode)GetErrorCode(status);
            var message = Marshal.PtrToStringUTF8((nint)GetErrorMessage(status)) ?? "";
            return (code, message);
        }
        finally { ReleaseStatus(status); }
    }

    /// <summary>A NUL-terminated UTF-8 copy of <paramref name="s"/> for a C string argument.</summary>
    public static byte[] Utf8z(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}

/// <summary>ORT's error codes (<c>OrtErrorCode</c> in onnxruntime_c_api.h).</summary>
public enum OrtErrorCode
{
    Ok = 0, Fail = 1, InvalidArgument = 2, NoSuchFile = 3, NoModel = 4, EngineError = 5, RuntimeException = 6,
    InvalidProtobuf = 7, ModelLoaded = 8, NotImplemented = 9, InvalidGraph = 10, EpFail = 11,
}
