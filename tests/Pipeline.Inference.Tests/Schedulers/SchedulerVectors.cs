using System.Text.Json;
using Pipeline.Inference.Schedulers;

namespace Pipeline.Inference.Tests.Schedulers;

/// <summary>Reads the frozen vectors that data/make_vectors.py writes.</summary>
internal static class SchedulerVectors
{
    public static string DataPath(string file) => Path.Combine(AppContext.BaseDirectory, "Schedulers", "data", file);

    public static JsonElement Load(string file)
    {
        using var stream = File.OpenRead(DataPath(file));
        using var doc = JsonDocument.Parse(stream);
        return doc.RootElement.Clone();
    }

    public static SchedulerConfig Config(JsonElement c) => new()
    {
        NumTrainTimesteps = c.GetProperty("numTrainTimesteps").GetInt32(),
        BetaStart = c.GetProperty("betaStart").GetDouble(),
        BetaEnd = c.GetProperty("betaEnd").GetDouble(),
        BetaSchedule = SchedulerNames.ParseBetaSchedule(c.GetProperty("betaSchedule").GetString()!),
        PredictionType = SchedulerNames.ParsePredictionType(c.GetProperty("predictionType").GetString()!),
        TimestepSpacing = SchedulerNames.ParseTimestepSpacing(c.GetProperty("timestepSpacing").GetString()!),
        StepsOffset = c.GetProperty("stepsOffset").GetInt32(),
        SetAlphaToOne = c.GetProperty("setAlphaToOne").GetBoolean(),
        Eta = c.GetProperty("eta").GetDouble(),
        VarianceType = SchedulerNames.ParseVarianceType(c.GetProperty("varianceType").GetString()!),
        ClipSample = c.GetProperty("clipSample").GetBoolean(),
        ClipSampleRange = c.GetProperty("clipSampleRange").GetDouble(),
        LowerOrderFinal = c.GetProperty("lowerOrderFinal").GetBoolean(),
    };

    public static double[] Doubles(JsonElement a)
    {
        var r = new double[a.GetArrayLength()];
        int i = 0;
        foreach (var v in a.EnumerateArray())
            r[i++] = v.GetDouble();
        return r;
    }

    /// <summary>Values the script wrote as float32-representable doubles, back to float32 exactly.</summary>
    public static float[] Floats(JsonElement a)
    {
        double[] d = Doubles(a);
        var r = new float[d.Length];
        for (int i = 0; i < d.Length; i++)
        {
            r[i] = (float)d[i];
            if (r[i] != d[i])
                throw new InvalidDataException($"value {d[i]} at {i} is not a float32; regenerate the vectors.");
        }
        return r;
    }

    public static int[] Ints(JsonElement a) => a.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    public static string Describe(JsonElement c) =>
        $"{c.GetProperty("scheduler").GetString()} {(c.TryGetProperty("label", out var l) ? l.GetString() : "")} " +
        $"{c.GetProperty("config").GetProperty("predictionType").GetString()}";
}
