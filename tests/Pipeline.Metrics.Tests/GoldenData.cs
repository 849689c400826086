using System.Runtime.InteropServices;
using System.Text.Json;

namespace Pipeline.Metrics.Tests;

/// <summary>Reads the vectors written by data/golden/make_golden.py.</summary>
internal static class GoldenData
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "data", "golden");

    private static readonly Lazy<JsonDocument> Doc = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "golden.json"))));

    public static JsonElement Root => Doc.Value.RootElement;

    public static float[] F32(string file) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(Dir, file))).ToArray();

    public static byte[] U8(string file) => File.ReadAllBytes(Path.Combine(Dir, file));

    public static JsonElement Case(string section, string name) =>
        Root.GetProperty(section).EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    public static double? Nullable(this JsonElement e, string property) =>
        e.GetProperty(property).ValueKind == JsonValueKind.Null ? null : e.GetProperty(property).GetDouble();

    public static void AssertRelative(double expected, double actual, double tolerance, string what)
    {
        double err = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-300);
        Assert.True(err <= tolerance, $"{what}: expected {expected:R}, got {actual:R} (relative error {err:E2} > {tolerance:E0})");
    }
}
