using System.Text.Json;

namespace Pipeline.Driving.Tests;

/// <summary>The frozen reference vectors of data/make_driving_vectors.py (numpy/scipy, written from docs/driving.md).</summary>
internal static class Vectors
{
    private static readonly Lazy<JsonElement> Root = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "driving_vectors.json"))).RootElement);

    public static JsonElement Get(string name) => Root.Value.GetProperty(name);

    public static double[] Doubles(this JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();
    public static int[] Ints(this JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
    public static float[] Floats(this JsonElement e) => e.EnumerateArray().Select(x => (float)x.GetDouble()).ToArray();
    public static double[][] Rows(this JsonElement e) => e.EnumerateArray().Select(Doubles).ToArray();
}
