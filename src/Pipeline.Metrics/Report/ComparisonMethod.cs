namespace Pipeline.Metrics.Report;

/// <summary>
/// What a metric value measures, so the report can put them side by side: the model's result, the copy&amp;paste
/// baseline (the reference crop pasted into the same box with the same compositing; the thesis's Table 3.1 baseline),
/// or the untouched original at the same box (what the tissue itself scores).
/// </summary>
public static class ComparisonMethod
{
    public const string Model = "model";
    public const string CopyPaste = "copy&paste";
    public const string Untouched = "untouched";

    /// <summary>Set A of a set metric: the same items' original patches.</summary>
    public const string AgainstOriginal = "original patches";

    /// <summary>Set A of a set metric: real lesion patches of the same class from other images.</summary>
    public const string AgainstRealLesions = "real lesions";

    /// <summary>Separates the method from the metric in an item's metric keys: "copy&amp;paste/seam".</summary>
    public const char KeySeparator = '/';

    /// <summary>An item metric key: the metric name for the model, "method/metric" otherwise.</summary>
    public static string Key(string method, string metric) => method == Model ? metric : method + KeySeparator + metric;

    /// <summary>The method and metric of an item metric key (no known method prefix: the model's).</summary>
    public static (string Method, string Metric) ParseKey(string key)
    {
        foreach (var m in new[] { CopyPaste, Untouched })
            if (key.Length > m.Length + 1 && key.StartsWith(m, StringComparison.Ordinal) && key[m.Length] == KeySeparator)
                return (m, key[(m.Length + 1)..]);
        return (Model, key);
    }

    /// <summary>Display order: model, copy&amp;paste, untouched, anything else.</summary>
    public static int Order(string method) => method switch
    {
        Model => 0, CopyPaste => 1, Untouched => 2, _ => 3,
    };
}
