using System.Reflection;
using System.Runtime.InteropServices;

namespace Pipeline.Imaging.Dicom;

/// <summary>
/// Makes GDCM's SWIG glue library findable. gdcm-sharp.dll P/Invokes "gdcmsharpglue"; .NET probes the application folder
/// for "libgdcmsharpglue.so" only with its own naming rules, and Debian installs it beside the managed DLL under
/// /usr/lib/cli, so a resolver tries, in order: the app folder, the folder of gdcm-sharp.dll, the repository's
/// .pipeline/gdcm (PIPELINE_REPO_ROOT) and Debian's path. libgdcm3.0 itself comes from the system (ldconfig).
/// </summary>
internal static class GdcmNative
{
    private static int _registered;

    public static void EnsureResolver()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        NativeLibrary.SetDllImportResolver(typeof(gdcm.ImageReader).Assembly, Resolve);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (!name.Contains("gdcmsharpglue", StringComparison.Ordinal)) return IntPtr.Zero;
        foreach (var candidate in Candidates(assembly))
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var handle)) return handle;
        return IntPtr.Zero; // falls back to the default probing, which then reports DllNotFoundException
    }

    private static IEnumerable<string> Candidates(Assembly assembly)
    {
        const string file = "libgdcmsharpglue.so";
        yield return Path.Combine(AppContext.BaseDirectory, file);
        if (!string.IsNullOrEmpty(assembly.Location)) yield return Path.Combine(Path.GetDirectoryName(assembly.Location)!, file);
        var root = Environment.GetEnvironmentVariable("PIPELINE_REPO_ROOT");
        if (!string.IsNullOrEmpty(root)) yield return Path.Combine(root, ".pipeline", "gdcm", file);
        yield return Path.Combine("/usr/lib/cli/gdcm-sharp-3.0", file);
    }
}
