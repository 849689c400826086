using System.Runtime.InteropServices;

namespace Pipeline.Imaging.Codecs;

/// <summary>
/// The TurboJPEG 2.x C API (turbojpeg.h of libjpeg-turbo 2.1, Debian package libturbojpeg0). Only the functions and
/// constants the codec needs; values are the header's enums, which are ABI-stable across 2.x.
/// </summary>
internal static partial class TurboJpegNative
{
    private const string Library = "libturbojpeg.so.0";

    // enum TJPF
    public const int PixelFormatRgb = 0;
    public const int PixelFormatGray = 6;
    public const int PixelFormatRgba = 7;
    // enum TJSAMP
    public const int Samp444 = 0, Samp422 = 1, Samp420 = 2, SampGray = 3, Samp440 = 4, Samp411 = 5;
    // enum TJCS
    public const int ColorspaceRgb = 0, ColorspaceYCbCr = 1, ColorspaceGray = 2, ColorspaceCmyk = 3, ColorspaceYcck = 4;
    // TJFLAG_*
    public const int FlagAccurateDct = 4096;
    public const int FlagStopOnWarning = 8192;
    public const int FlagProgressive = 16384;
    /// <summary>Refuse progressive JPEGs with more than 500 scans (libjpeg-turbo's guard against scan-count denial of service).</summary>
    public const int FlagLimitScans = 32768;
    // enum TJERR
    public const int ErrorWarning = 0;

    [LibraryImport(Library, EntryPoint = "tjInitDecompress")]
    public static partial nint InitDecompress();

    [LibraryImport(Library, EntryPoint = "tjInitCompress")]
    public static partial nint InitCompress();

    [LibraryImport(Library, EntryPoint = "tjDestroy")]
    public static partial int Destroy(nint handle);

    [LibraryImport(Library, EntryPoint = "tjDecompressHeader3")]
    public static unsafe partial int DecompressHeader3(nint handle, byte* jpegBuf, nuint jpegSize, out int width, out int height, out int subsamp, out int colorspace);

    [LibraryImport(Library, EntryPoint = "tjDecompress2")]
    public static unsafe partial int Decompress2(nint handle, byte* jpegBuf, nuint jpegSize, byte* dstBuf, int width, int pitch, int height, int pixelFormat, int flags);

    [LibraryImport(Library, EntryPoint = "tjCompress2")]
    public static unsafe partial int Compress2(nint handle, byte* srcBuf, int width, int pitch, int height, int pixelFormat, byte** jpegBuf, nuint* jpegSize, int subsamp, int quality, int flags);

    [LibraryImport(Library, EntryPoint = "tjFree")]
    public static unsafe partial void Free(byte* buffer);

    [LibraryImport(Library, EntryPoint = "tjGetErrorStr2")]
    public static partial nint GetErrorStr2(nint handle);

    [LibraryImport(Library, EntryPoint = "tjGetErrorCode")]
    public static partial int GetErrorCode(nint handle);

    public static string ErrorText(nint handle) => Marshal.PtrToStringUTF8(GetErrorStr2(handle)) ?? "unknown TurboJPEG error";
}
