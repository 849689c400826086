using System.Globalization;
using System.Text;
using Pipeline.Core.Contracts;

namespace Pipeline.Host.Runs;

/// <summary>One finding of an annotated image: its class (VinDr finding category) and box.</summary>
public sealed record Finding(string ClassName, BoundingBox Box);

/// <summary>An image of a dataset with its findings (empty = "No Finding", i.e. healthy).</summary>
public sealed record AnnotatedImage(string ImageId, string StudyId, string Path, int Width, int Height, string? Laterality, string? View, string? Split,
    IReadOnlyList<Finding> Findings);

/// <summary>
/// Reads the VinDr-Mammo finding annotation CSV (one row per finding; images without findings have one row with
/// "No Finding" and empty box columns) into images with their findings. Image files are expected at
/// images/{study_id}/{image_id}.dicom (VinDr layout) unless a "path" column names them. Problems are collected per row,
/// never thrown, so one bad row does not lose the dataset.
/// </summary>
public static class VindrAnnotations
{
    public const string FileName = "finding_annotations.csv";
    private static readonly string[] Required = ["study_id", "image_id", "height", "width", "finding_categories", "xmin", "ymin", "xmax", "ymax"];

    public static (IReadOnlyList<AnnotatedImage> Images, IReadOnlyList<string> Problems) Parse(string csv, string item)
    {
        var problems = new List<string>();
        var lines = csv.Replace("\r\n", "\n").Split('\n');
        if (lines.Length == 0 || string.IsNullOrWhiteSpace(lines[0])) return ([], [$"{item}: empty annotation file"]);
        var header = SplitRow(lines[0]);
        var col = header.Select((h, i) => (h.Trim(), i)).ToDictionary(p => p.Item1, p => p.i, StringComparer.OrdinalIgnoreCase);
        var missing = Required.Where(r => !col.ContainsKey(r)).ToList();
        if (missing.Count > 0) return ([], [$"{item}: missing column(s) {string.Join(", ", missing)}"]);

        var byImage = new Dictionary<string, (AnnotatedImage Image, List<Finding> Findings)>(StringComparer.Ordinal);
        var order = new List<string>();
        for (int li = 1; li < lines.Length; li++)
        {
            if (string.IsNullOrWhiteSpace(lines[li])) continue;
            var f = SplitRow(lines[li]);
            string Get(string name) => col.TryGetValue(name, out int i) && i < f.Count ? f[i].Trim() : "";
            string where = $"{item} line {li + 1}";
            string imageId = Get("image_id"), studyId = Get("study_id");
            if (imageId.Length == 0 || studyId.Length == 0) { problems.Add($"{where}: empty study_id or image_id"); continue; }
            if (!int.TryParse(Get("width"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int w) ||
                !int.TryParse(Get("height"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int h) || w <= 0 || h <= 0)
            { problems.Add($"{where}: width/height '{Get("width")}'/'{Get("height")}' are not positive integers"); continue; }
            if (!byImage.TryGetValue(imageId, out var entry))
            {
                string path = col.ContainsKey("path") && Get("path").Length > 0 ? Get("path") : $"images/{studyId}/{imageId}.dicom";
                entry = (new AnnotatedImage(imageId, studyId, path, w, h, NullIfEmpty(Get("laterality")), NullIfEmpty(Get("view_position")),
                    NullIfEmpty(Get("split")), []), []);
                byImage[imageId] = entry;
                order.Add(imageId);
            }
            var classes = ParseCategories(Get("finding_categories"));
            if (classes.Count == 0 || classes.All(c => c == "No Finding")) continue;
            if (!TryBox(Get("xmin"), Get("ymin"), Get("xmax"), Get("ymax"), out var box))
            { problems.Add($"{where}: finding {string.Join("/", classes)} has no valid box ({Get("xmin")},{Get("ymin")},{Get("xmax")},{Get("ymax")})"); continue; }
            if (box.X0 < 0 || box.Y0 < 0 || box.X1 > w || box.Y1 > h)
            { problems.Add($"{where}: box ({box.X0},{box.Y0},{box.X1},{box.Y1}) leaves the {w}x{h} image"); continue; }
            // A finding with several categories counts as the first one (VinDr lists the dominant first).
            entry.Findings.Add(new Finding(classes[0], box));
        }
        var images = order.Select(id => byImage[id].Image with { Findings = byImage[id].Findings }).ToList();
        return (images, problems);
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    private static bool TryBox(string a, string b, string c, string d, out BoundingBox box)
    {
        box = new BoundingBox(0, 0, 0, 0);
        if (!double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out var x0) ||
            !double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out var y0) ||
            !double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out var x1) ||
            !double.TryParse(d, NumberStyles.Float, CultureInfo.InvariantCulture, out var y1)) return false;
        box = new BoundingBox(x0, y0, x1, y1);
        return !box.IsEmpty && double.IsFinite(x0 + y0 + x1 + y1);
    }

    /// <summary>"['Mass', 'Suspicious Calcification']" (VinDr's Python-list text) or "Mass;Asymmetry" -> names.</summary>
    public static IReadOnlyList<string> ParseCategories(string text)
    {
        var t = text.Trim().TrimStart('[').TrimEnd(']');
        return t.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries)
            .Select(s => s.Trim().Trim('\'', '"').Trim()).Where(s => s.Length > 0).ToList();
    }

    /// <summary>Splits one CSV row (RFC 4180 quoting; a quoted field may hold commas and doubled quotes).</summary>
    public static List<string> SplitRow(string line)
    {
        var fields = new List<string>();
        var sb = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else sb.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { fields.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(ch);
        }
        fields.Add(sb.ToString());
        return fields;
    }

    /// <summary>Quotes a CSV field when needed.</summary>
    public static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;
}
