using System.Globalization;
using System.Text;
using Pipeline.Core.Contracts;
using Pipeline.Metrics.Gate;

namespace Pipeline.Mammography;

/// <summary>
/// The augmented dataset's annotation file runs/{id}/out/finding_annotations.csv: VinDr-Mammo columns for each
/// synthetic finding, then lineage and metric columns, ready to append to a training set.
/// </summary>
public static class SyntheticFindingsCsv
{
    /// <summary>The file's name under runs/{id}/out/.</summary>
    public const string FileName = "finding_annotations.csv";

    public static readonly string[] LineageColumns =
        ["synthetic_item_id", "task", "source_image", "reference_image", "reference_xmin", "reference_ymin", "reference_xmax", "reference_ymax",
         "model_id", "model_sha256", "seed", "scheduler", "steps", "guidance", "eta", "output_blob", "output_sha256", "outcome", "flags"];

    /// <summary>Per-item metrics written as columns (empty when not computed).</summary>
    public static readonly string[] MetricColumns = ["ssim", "ssim.inside", "ssim.outside", "psnr", "psnr.outside", "mae.inside"];

    /// <summary>The VinDr-format rows of the synthetic findings (dropped and failed items are left out).</summary>
    public static string Csv(IReadOnlyList<WorkItem> planned, IReadOnlyDictionary<string, ItemResult> results, IReadOnlyDictionary<string, Lineage> lineages)
    {
        var sb = new StringBuilder();
        // Learned metrics (LPIPS[net], CLIP-I[net], ...) follow the fixed columns under their reported names, when computed.
        var columns = MetricColumns.Concat(results.Values.SelectMany(r => r.Metrics.Keys)
            .Where(k => MetricKeys.IsLpips(k) || MetricKeys.IsEmbedding(k)).Distinct().Order(StringComparer.Ordinal)).ToList();
        sb.AppendLine(string.Join(',', new[] { "study_id", "image_id", "finding_categories", "xmin", "ymin", "xmax", "ymax" }.Concat(LineageColumns).Concat(columns.Select(m => "metric_" + m.Replace('.', '_')))));
        foreach (var item in planned)
        {
            if (!results.TryGetValue(item.ItemId, out var r) || r.Outcome is ItemOutcome.Failed or ItemOutcome.Dropped || !lineages.TryGetValue(item.ItemId, out var l)) continue;
            string imageId = Path.GetFileNameWithoutExtension(r.Output ?? item.ItemId);
            var b = item.TargetBox;
            var fields = new List<string>
            {
                "synthetic", imageId, $"['{item.ClassName}']",
                F(b.X0), F(b.Y0), F(b.X1), F(b.Y1),
                item.ItemId, item.Mode.ToString().ToLowerInvariant(), item.TargetImage, item.ReferenceImage,
                F(item.ReferenceBox.X0), F(item.ReferenceBox.Y0), F(item.ReferenceBox.X1), F(item.ReferenceBox.Y1),
                l.Model.Id, l.Model.Sha256, item.Seed.ToString(CultureInfo.InvariantCulture),
                l.Sampler.Scheduler?.ToString().ToLowerInvariant() ?? "", l.Sampler.Steps?.ToString(CultureInfo.InvariantCulture) ?? "",
                l.Sampler.Guidance?.ToString(CultureInfo.InvariantCulture) ?? "", l.Sampler.Eta?.ToString(CultureInfo.InvariantCulture) ?? "",
                r.Output ?? "", r.OutputSha256 ?? "", r.Outcome.ToString().ToLowerInvariant(), string.Join("; ", r.Flags),
            };
            fields.AddRange(columns.Select(m => r.Metrics.TryGetValue(m, out var v) && double.IsFinite(v) ? F(v) : ""));
            sb.AppendLine(string.Join(',', fields.Select(Quote)));
        }
        return sb.ToString();
    }

    private static string F(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);

    /// <summary>Quotes a CSV field when needed (RFC 4180).</summary>
    public static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;
}
