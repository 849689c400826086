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

    /// <summary>Display order: model, copy&amp;paste, untouched, anything else.</summary>
    public static int Order(string method) => method switch
    {
        Model => 0, CopyPaste => 1, Untouched => 2, _ => 3,
    };
}
