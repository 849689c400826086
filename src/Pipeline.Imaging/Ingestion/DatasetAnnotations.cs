using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Pipeline.Imaging.Ingestion;

/// <summary>
/// One annotated finding (or a "no finding" row when <see cref="Box"/> and <see cref="MaskPath"/> are null) of one image.
/// A finding given by a mask (a CBIS-DDSM ROI mask image) has <see cref="MaskPath"/> and no box until ingestion reads
/// the mask. <see cref="Source"/> names where it came from for messages ("annotations.csv:12", "seg.dcm frame 2").
/// </summary>
public sealed record AnnotatedFinding(string ImagePath, string ImageId, string? StudyId, int? Width, int? Height, string? ClassName,
    double[]? Box, string? Split, string? Laterality, string? View, int Line, string? MaskPath = null, string? Source = null);

/// <summary>The annotation formats ingestion understands (<see cref="DicomSeg"/>: no annotation file, DICOM Segmentations).</summary>
public enum AnnotationFormat { VinDrMammo, CbisDdsm, GenericCsv, GenericJson, DicomSeg }

/// <summary>The annotation file(s) found at a dataset's root: one, or CBIS-DDSM's mass/calc description CSVs.</summary>
public sealed record DetectedAnnotations(AnnotationFormat Format, IReadOnlyList<string> Files)
{
    public string File => Files[0];
}

/// <summary>
/// Reads a dataset's annotation file. Formats (first found wins):
/// <list type="number">
/// <item><c>finding_annotations.csv</c> - VinDr-Mammo: study_id, image_id, laterality, view_position, height, width,
/// breast_birads, finding_categories (a Python list string such as <c>['Mass']</c>), finding_birads, xmin, ymin, xmax,
/// ymax, split; images at <c>images/{study_id}/{image_id}.dicom</c>.</item>
/// <item><c>mass_case_description_{train,test}_set.csv</c>, <c>calc_case_description_{train,test}_set.csv</c> -
/// CBIS-DDSM: patient_id, left or right breast, image view, abnormality id, abnormality type, pathology, image file path,
/// ROI mask file path (column names with spaces or underscores); the box of a finding is the bounding box of its ROI
/// mask image, read by ingestion; split from the file name (train -> training, test -> test).</item>
/// <item><c>annotations.csv</c> - generic: file, width, height, class, x0, y0, x1, y1 and optional split; one row per box,
/// empty class and box for an image without findings; file is relative to the dataset root (DICOM, PNG or JPEG).</item>
/// <item><c>annotations.json</c> - generic: <c>{"images": [{"file", "width", "height", "split"?, "boxes": [{"class", "box": [x0, y0, x1, y1]}]}]}</c>.</item>
/// </list>
/// </summary>
public static class DatasetAnnotations
{
    public const string VinDrFile = "finding_annotations.csv", GenericCsvFile = "annotations.csv", GenericJsonFile = "annotations.json";

    /// <summary>CBIS-DDSM's description files, in the order they are read.</summary>
    public static readonly string[] CbisDdsmFiles =
        ["mass_case_description_train_set.csv", "mass_case_description_test_set.csv", "calc_case_description_train_set.csv", "calc_case_description_test_set.csv"];

    /// <summary>What the "no annotation file" message lists.</summary>
    public static string ExpectedFiles => $"{VinDrFile}, {CbisDdsmFiles[0]} (or another CBIS-DDSM description CSV), {GenericCsvFile}, {GenericJsonFile}, or DICOM Segmentation objects";

    public static DetectedAnnotations? Detect(IReadOnlyCollection<string> paths)
    {
        if (paths.Contains(VinDrFile)) return new(AnnotationFormat.VinDrMammo, [VinDrFile]);
        var cbis = CbisDdsmFiles.Where(paths.Contains).ToList();
        if (cbis.Count > 0) return new(AnnotationFormat.CbisDdsm, cbis);
        if (paths.Contains(GenericCsvFile)) return new(AnnotationFormat.GenericCsv, [GenericCsvFile]);
        if (paths.Contains(GenericJsonFile)) return new(AnnotationFormat.GenericJson, [GenericJsonFile]);
        return null;
    }

    /// <summary>Parses the annotation text; row-level problems go to <paramref name="errors"/> (file:line: message) and the row is skipped.</summary>
    public static List<AnnotatedFinding> Parse(AnnotationFormat format, string file, string text, List<string> errors)
    {
        return format switch
        {
            AnnotationFormat.VinDrMammo => ParseVinDr(file, text, errors),
            AnnotationFormat.CbisDdsm => ParseCbisDdsm(file, text, errors),
            AnnotationFormat.GenericCsv => ParseGenericCsv(file, text, errors),
            AnnotationFormat.GenericJson => ParseGenericJson(file, text, errors),
            _ => throw new ArgumentException($"{format} has no annotation file to parse", nameof(format)),
        };
    }

    private static List<AnnotatedFinding> ParseVinDr(string file, string text, List<string> errors)
    {
        var rows = Csv.Parse(text);
        var result = new List<AnnotatedFinding>();
        if (rows.Count == 0) { errors.Add($"{file}: empty"); return result; }
        var header = Columns(rows[0]);
        string[] required = ["study_id", "image_id", "height", "width", "finding_categories", "xmin", "ymin", "xmax", "ymax"];
        var missing = required.Where(c => !header.ContainsKey(c)).ToList();
        if (missing.Count > 0) { errors.Add($"{file}: missing column(s) {string.Join(", ", missing)} (VinDr-Mammo finding_annotations.csv)"); return result; }
        for (int r = 1; r < rows.Count; r++)
        {
            var row = rows[r];
            if (row.Length == 1 && row[0].Length == 0) continue;
            string Get(string c) => header.TryGetValue(c, out var i) && i < row.Length ? row[i].Trim() : "";
            try
            {
                string study = Get("study_id"), image = Get("image_id");
                if (study.Length == 0 || image.Length == 0) throw new FormatException("empty study_id or image_id");
                var categories = ParseCategories(Get("finding_categories"));
                var box = ParseBox(Get("xmin"), Get("ymin"), Get("xmax"), Get("ymax"));
                string? cls = categories.FirstOrDefault(c => c != "No Finding");
                if (box != null && cls == null) throw new FormatException("a box without a finding category");
                result.Add(new AnnotatedFinding(InsideDataset($"images/{study}/{image}.dicom"), image, study, ParseInt(Get("width"), "width"), ParseInt(Get("height"), "height"),
                    box == null ? null : string.Join("|", categories.Where(c => c != "No Finding")), box, NullIfEmpty(Get("split")),
                    NullIfEmpty(Get("laterality")), NullIfEmpty(Get("view_position")), r + 1));
            }
            catch (FormatException ex) { errors.Add($"{file}:{r + 1}: {ex.Message}"); }
        }
        return result;
    }

    private static List<AnnotatedFinding> ParseCbisDdsm(string file, string text, List<string> errors)
    {
        var rows = Csv.Parse(text);
        var result = new List<AnnotatedFinding>();
        if (rows.Count == 0) { errors.Add($"{file}: empty"); return result; }
        // CBIS-DDSM writes "left or right breast" in one file and "left_or_right_breast" elsewhere: spaces are underscores here.
        var header = rows[0].Select((h, i) => (h.Trim().ToLowerInvariant().Replace(' ', '_'), i))
            .GroupBy(p => p.Item1).ToDictionary(g => g.Key, g => g.First().i);
        string[] required = ["patient_id", "left_or_right_breast", "image_view", "abnormality_type", "image_file_path", "roi_mask_file_path"];
        var missing = required.Where(c => !header.ContainsKey(c)).ToList();
        if (missing.Count > 0) { errors.Add($"{file}: missing column(s) {string.Join(", ", missing)} (CBIS-DDSM case description CSV)"); return result; }
        string? split = file.Contains("_train_", StringComparison.Ordinal) ? "training" : file.Contains("_test_", StringComparison.Ordinal) ? "test" : null;
        for (int r = 1; r < rows.Count; r++)
        {
            var row = rows[r];
            if (row.Length == 1 && row[0].Length == 0) continue;
            // Paths in the published CSVs end with a stray newline inside the quotes: Trim() takes it off.
            string Get(string c) => header.TryGetValue(c, out var i) && i < row.Length ? row[i].Trim() : "";
            try
            {
                string patient = Get("patient_id");
                if (patient.Length == 0) throw new FormatException("empty patient_id");
                string image = InsideDataset(Get("image_file_path"));
                string mask = Get("roi_mask_file_path");
                if (mask.Length == 0) throw new FormatException("empty ROI mask file path");
                mask = InsideDataset(mask);
                string cls = Get("abnormality_type").ToLowerInvariant() switch
                {
                    "mass" => "Mass",
                    "calcification" => "Calcification",
                    var other => throw new FormatException($"abnormality type '{other}' is not mass or calcification"),
                };
                string side = Get("left_or_right_breast").ToUpperInvariant();
                string? laterality = side switch { "LEFT" => "L", "RIGHT" => "R", "" => null, _ => side };
                string view = Get("image_view").ToUpperInvariant();
                result.Add(new AnnotatedFinding(image, $"{patient}_{side}_{view}", patient, null, null, cls, null, split, laterality,
                    NullIfEmpty(view), r + 1, mask, $"{file}:{r + 1}"));
            }
            catch (FormatException ex) { errors.Add($"{file}:{r + 1}: {ex.Message}"); }
        }
        return result;
    }

    private static List<AnnotatedFinding> ParseGenericCsv(string file, string text, List<string> errors)
    {
        var rows = Csv.Parse(text);
        var result = new List<AnnotatedFinding>();
        if (rows.Count == 0) { errors.Add($"{file}: empty"); return result; }
        var header = Columns(rows[0]);
        string[] required = ["file", "width", "height", "class", "x0", "y0", "x1", "y1"];
        var missing = required.Where(c => !header.ContainsKey(c)).ToList();
        if (missing.Count > 0) { errors.Add($"{file}: missing column(s) {string.Join(", ", missing)} (generic annotations.csv)"); return result; }
        for (int r = 1; r < rows.Count; r++)
        {
            var row = rows[r];
            if (row.Length == 1 && row[0].Length == 0) continue;
            string Get(string c) => header.TryGetValue(c, out var i) && i < row.Length ? row[i].Trim() : "";
            try
            {
                string path = InsideDataset(Get("file"));
                var box = ParseBox(Get("x0"), Get("y0"), Get("x1"), Get("y1"));
                string? cls = NullIfEmpty(Get("class"));
                if (box != null && cls == null) throw new FormatException("a box without a class");
                result.Add(new AnnotatedFinding(path, Path.GetFileNameWithoutExtension(path), null, ParseInt(Get("width"), "width"), ParseInt(Get("height"), "height"),
                    box == null ? null : cls, box, NullIfEmpty(Get("split")), null, null, r + 1));
            }
            catch (FormatException ex) { errors.Add($"{file}:{r + 1}: {ex.Message}"); }
        }
        return result;
    }

    private static List<AnnotatedFinding> ParseGenericJson(string file, string text, List<string> errors)
    {
        var result = new List<AnnotatedFinding>();
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip }); }
        catch (JsonException ex) { errors.Add($"{file}: not valid JSON: {ex.Message}"); return result; }
        using (doc)
        {
            if (!doc.RootElement.TryGetProperty("images", out var images) || images.ValueKind != JsonValueKind.Array)
            { errors.Add($"{file}: expected {{\"images\": [...]}}"); return result; }
            int n = 0;
            foreach (var img in images.EnumerateArray())
            {
                n++;
                try
                {
                    string path = InsideDataset(img.TryGetProperty("file", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()! : throw new FormatException("missing \"file\""));
                    int? w = img.TryGetProperty("width", out var we) && we.ValueKind == JsonValueKind.Number ? we.GetInt32() : null;
                    int? h = img.TryGetProperty("height", out var he) && he.ValueKind == JsonValueKind.Number ? he.GetInt32() : null;
                    string? split = img.TryGetProperty("split", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
                    bool any = false;
                    if (img.TryGetProperty("boxes", out var boxes) && boxes.ValueKind == JsonValueKind.Array)
                        foreach (var b in boxes.EnumerateArray())
                        {
                            string cls = b.TryGetProperty("class", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : throw new FormatException("box without \"class\"");
                            if (!b.TryGetProperty("box", out var bb) || bb.ValueKind != JsonValueKind.Array || bb.GetArrayLength() != 4) throw new FormatException("\"box\" must be [x0, y0, x1, y1]");
                            var box = bb.EnumerateArray().Select(v => v.GetDouble()).ToArray();
                            CheckBox(box);
                            result.Add(new AnnotatedFinding(path, Path.GetFileNameWithoutExtension(path), null, w, h, cls, box, split, null, null, n));
                            any = true;
                        }
                    if (!any) result.Add(new AnnotatedFinding(path, Path.GetFileNameWithoutExtension(path), null, w, h, null, null, split, null, null, n));
                }
                catch (Exception ex) when (ex is FormatException or InvalidOperationException)
                { errors.Add($"{file}: images[{n - 1}]: {ex.Message}"); }
            }
        }
        return result;
    }

    /// <summary>
    /// Checks that an image path of an annotation file stays inside the dataset: relative, '/'-separated, without '..'
    /// segments, drive letters or backslashes. Paths are blob names under datasets/{name}/ (or files under the folder
    /// <c>pipeline dataset validate</c> reads), so one that climbs out would read another dataset's or the machine's files.
    /// </summary>
    /// <exception cref="FormatException">The path is empty, absolute or climbs out of the dataset.</exception>
    public static string InsideDataset(string path)
    {
        if (path.Length == 0) throw new FormatException("empty image path");
        if (path[0] == '/' || path.Contains('\\') || (path.Length >= 2 && path[1] == ':') || path.Contains('\0'))
            throw new FormatException($"image path '{path}' is absolute or not '/'-separated; paths are relative to the dataset root");
        if (path.Split('/').Any(segment => segment == ".."))
            throw new FormatException($"image path '{path}' climbs out of the dataset ('..'); paths are relative to the dataset root");
        return path;
    }

    private static Dictionary<string, int> Columns(string[] header) =>
        header.Select((h, i) => (h.Trim().ToLowerInvariant(), i)).GroupBy(p => p.Item1).ToDictionary(g => g.Key, g => g.First().i);

    /// <summary>VinDr writes finding_categories as a Python list literal: ['Mass', 'Suspicious Calcification'].</summary>
    public static string[] ParseCategories(string text)
    {
        var t = text.Trim();
        if (t.StartsWith('[') && t.EndsWith(']')) t = t[1..^1];
        return t.Split(',').Select(s => s.Trim().Trim('\'', '"').Trim()).Where(s => s.Length > 0).ToArray();
    }

    private static double[]? ParseBox(string x0, string y0, string x1, string y1)
    {
        if (x0.Length == 0 && y0.Length == 0 && x1.Length == 0 && y1.Length == 0) return null;
        var v = new[] { x0, y0, x1, y1 }.Select((s, i) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
            ? d : throw new FormatException($"box coordinate {i + 1} '{s}' is not a number")).ToArray();
        CheckBox(v);
        return v;
    }

    private static void CheckBox(double[] b)
    {
        if (!(b[2] > b[0] && b[3] > b[1])) throw new FormatException($"box [{b[0]}, {b[1]}, {b[2]}, {b[3]}] is empty or inverted (need x0 < x1, y0 < y1)");
    }

    private static int? ParseInt(string s, string what)
    {
        if (s.Length == 0) return null;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == Math.Floor(d) && d > 0 && d < int.MaxValue) return (int)d;
        throw new FormatException($"{what} '{s}' is not a positive integer");
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}

/// <summary>RFC 4180 CSV: quoted fields with doubled quotes, CRLF or LF line ends.</summary>
public static class Csv
{
    public static List<string[]> Parse(string text)
    {
        var rows = new List<string[]>();
        var row = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < text.Length; i++)
        {
            char ch = text[i];
            if (quoted)
            {
                if (ch == '"') { if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; } else quoted = false; }
                else field.Append(ch);
            }
            else if (ch == '"' && field.Length == 0) quoted = true;
            else if (ch == ',') { row.Add(field.ToString()); field.Clear(); }
            else if (ch == '\n' || ch == '\r')
            {
                if (ch == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
                row.Add(field.ToString()); field.Clear();
                rows.Add(row.ToArray()); row.Clear();
            }
            else field.Append(ch);
        }
        if (field.Length > 0 || row.Count > 0) { row.Add(field.ToString()); rows.Add(row.ToArray()); }
        if (rows.Count > 0 && rows[0].Length > 0) rows[0][0] = rows[0][0].TrimStart('\uFEFF');
        return rows;
    }
}
