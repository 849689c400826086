using System.Text.Json;
using System.Text.Json.Serialization;
using Pipeline.Metrics.Aggregation;

namespace Pipeline.Metrics.Report;

/// <summary>A metric's summary over one group of items.</summary>
/// <param name="Scope">"run" (every item), "class" or "task".</param>
/// <param name="Group">The class or task; null for the run scope.</param>
/// <param name="Method">The model, copy&amp;paste or untouched (<see cref="ComparisonMethod"/>).</param>
public sealed record MetricAggregate(string Metric, string Region, string Scope, string? Group, string Version, MetricSummary Summary,
    string Method = ComparisonMethod.Model);

public sealed record RunSummary(int Items, int Succeeded, int Failed);

/// <summary>A failed item and why.</summary>
public sealed record FailedItem(string ItemId, string? Class, string? Task, string Error);

/// <summary>An item as report.json lists it: thumbnails by label only.</summary>
public sealed record ItemEntry(string ItemId, string? Class, string? Task, bool Succeeded, string? Error,
    IReadOnlyList<MetricValue> Metrics, IReadOnlyDictionary<string, string> Lineage, IReadOnlyList<string> Thumbnails);

/// <summary>
/// The document written to runs/{id}/report.json (schema: Report/report.schema.json, "pipeline.report/1").
/// </summary>
public sealed record RunReport
{
    public const string SchemaId = "pipeline.report/1";

    [JsonPropertyName("$schema")]
    public string Schema { get; init; } = SchemaId;

    public required string RunId { get; init; }
    public string? Title { get; init; }
    public required string State { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public required RunSummary Summary { get; init; }
    public required IReadOnlyDictionary<string, string> Settings { get; init; }
    public required IReadOnlyDictionary<string, string> Lineage { get; init; }
    public required IReadOnlyList<MetricDefinition> Definitions { get; init; }
    public required BootstrapOptions Bootstrap { get; init; }
    public required IReadOnlyList<MetricAggregate> Aggregates { get; init; }
    public required IReadOnlyList<SetMetricValue> SetMetrics { get; init; }
    public required IReadOnlyList<SkippedMetric> Skipped { get; init; }
    public required IReadOnlyList<FailedItem> Failures { get; init; }
    public required IReadOnlyList<ItemEntry> Items { get; init; }

    /// <summary>The JSON options of report.json: camelCase, indented, infinities as "Infinity" (PSNR of identical images).</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static RunReport FromJson(string json) =>
        JsonSerializer.Deserialize<RunReport>(json, JsonOptions) ?? throw new JsonException("report.json is empty");
}

/// <summary>Builds the <see cref="RunReport"/> from a <see cref="RunReportModel"/>: item counts, aggregates with CIs, failures.</summary>
public static class RunReportBuilder
{
    public static RunReport Build(RunReportModel model, BootstrapOptions? bootstrap = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (string.IsNullOrWhiteSpace(model.RunId)) throw new ArgumentException("report: the run id is empty", nameof(model));
        bootstrap ??= new BootstrapOptions();
        var dup = model.Items.GroupBy(i => i.ItemId).FirstOrDefault(g => g.Count() > 1);
        if (dup != null) throw new ArgumentException($"report: item id '{dup.Key}' appears {dup.Count()} times; item ids must be unique");
        var ok = model.Items.Where(i => i.Succeeded).ToList();
        var aggregates = new List<MetricAggregate>();
        var keys = ok.SelectMany(i => i.Metrics).Select(m => (m.Metric, m.Region, m.Method)).Distinct()
            .OrderBy(k => OrderOf(model, k.Metric)).ThenBy(k => k.Metric, StringComparer.Ordinal).ThenBy(k => RegionOrder(k.Region)).ThenBy(k => k.Region, StringComparer.Ordinal)
            .ThenBy(k => ComparisonMethod.Order(k.Method)).ToList();
        foreach (var (metric, region, method) in keys)
        {
            var versions = ok.SelectMany(i => i.Metrics).Where(m => m.Metric == metric && m.Region == region).Select(m => m.Version).Distinct().ToList();
            if (versions.Count > 1)
                throw new ArgumentException($"report: metric '{metric}' ({region}) was computed under {versions.Count} definitions ({string.Join("; ", versions)}); values of different definitions cannot be aggregated");
            void Add(string scope, string? group, IEnumerable<ItemReport> items)
            {
                var values = items.SelectMany(i => i.Metrics).Where(m => m.Metric == metric && m.Region == region && m.Method == method && m.Value.HasValue).Select(m => m.Value!.Value);
                var summary = Aggregation.Bootstrap.Summarize(values, bootstrap);
                if (summary != null) aggregates.Add(new MetricAggregate(metric, region, scope, group, versions[0], summary, method));
            }
            Add("run", null, ok);
            foreach (var g in ok.Where(i => i.Class != null).GroupBy(i => i.Class!).OrderBy(g => g.Key, StringComparer.Ordinal)) Add("class", g.Key, g);
            foreach (var g in ok.Where(i => i.Task != null).GroupBy(i => i.Task!).OrderBy(g => g.Key, StringComparer.Ordinal)) Add("task", g.Key, g);
        }
        return new RunReport
        {
            RunId = model.RunId,
            Title = model.Title,
            State = model.State,
            CreatedAt = model.CreatedAt,
            CompletedAt = model.CompletedAt,
            Summary = new RunSummary(model.Items.Count, ok.Count, model.Items.Count - ok.Count),
            Settings = model.Settings,
            Lineage = model.Lineage,
            Definitions = model.Definitions,
            Bootstrap = bootstrap,
            Aggregates = aggregates,
            SetMetrics = model.SetMetrics,
            Skipped = model.Skipped,
            Failures = model.Items.Where(i => !i.Succeeded).Select(i => new FailedItem(i.ItemId, i.Class, i.Task, i.Error ?? "failed (no reason recorded)")).ToList(),
            Items = model.Items.Select(i => new ItemEntry(i.ItemId, i.Class, i.Task, i.Succeeded, i.Error, i.Metrics, i.Lineage, i.Thumbnails.Select(t => t.Label).ToList())).ToList(),
        };
    }

    /// <summary>Whole image first, then the thesis' regions, then inside / outside a mask.</summary>
    private static int RegionOrder(string region) => region switch
    {
        "whole" => 0, "patch" => 1, "box" => 2, "inside" => 3, "outside" => 4, _ => 5,
    };

    private static int OrderOf(RunReportModel model, string metric)
    {
        for (int i = 0; i < model.Definitions.Count; i++) if (model.Definitions[i].Name == metric) return i;
        return int.MaxValue;
    }
}

/// <summary>The JSON Schema of report.json, embedded in this assembly.</summary>
public static class RunReportSchema
{
    public static string Text()
    {
        using var s = typeof(RunReportSchema).Assembly.GetManifestResourceStream("Pipeline.Metrics.report.schema.json")
            ?? throw new InvalidOperationException("report.schema.json is not embedded in Pipeline.Metrics");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }
}
