using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Pipeline.Core.Contracts;
using Pipeline.Imaging.Ingestion;
using Pipeline.Imaging.Synthetic;

namespace Pipeline.Mammography.Training;

/// <summary>
/// The pairs of a lesion-transfer folder (<c>pipeline synth lesion-transfer</c>, <see cref="LesionTransferPairs"/>):
/// <c>lesion_transfer_pairs.csv</c> (pair_id, category, reference image and box, target image and box, split) with the
/// images found through the folder's annotation file. A row naming an image that is not there, a bad box, or a pair
/// within one image is an error naming the file and row.
/// </summary>
public static class LesionTransferPairFile
{
    /// <summary>A pair: image paths relative to the folder, boxes in source pixels.</summary>
    public sealed record Pair(string PairId, string Category, string ReferenceImageId, string ReferencePath, BoundingBox ReferenceBox,
        string TargetImageId, string TargetPath, BoundingBox TargetBox, string Split, int Row)
    {
        public bool IsTraining => string.Equals(Split, "training", StringComparison.OrdinalIgnoreCase);
    }

    public static async Task<(IReadOnlyList<Pair> Pairs, string Sha256)> ReadAsync(string folder, List<string> warnings, CancellationToken cancellationToken)
    {
        var file = Path.Combine(folder, LesionTransferPairs.PairsFileName);
        if (!File.Exists(file))
            throw new FileNotFoundException($"transfer pairs '{folder}': no {LesionTransferPairs.PairsFileName} (write one with `pipeline synth lesion-transfer`)");
        var (_, _, _, images) = await MammographyTrainingExport.ReadDatasetAsync(folder, warnings, cancellationToken).ConfigureAwait(false);
        var paths = images.ToDictionary(i => i.ImageId, i => i.Path, StringComparer.Ordinal);
        var bytes = await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
        var rows = Csv.Parse(Encoding.UTF8.GetString(bytes));
        if (rows.Count == 0) throw new InvalidDataException($"{file}: empty");
        var header = rows[0];
        var column = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < header.Length; i++) column[header[i].Trim()] = i;
        foreach (var need in LesionTransferPairs.PairColumns.Where(c => c != "size_scale" && c != "contrast_scale" && c != "split"))
            if (!column.ContainsKey(need)) throw new InvalidDataException($"{file}: no column '{need}'");
        var pairs = new List<Pair>();
        for (int n = 1; n < rows.Count; n++)
        {
            var r = rows[n];
            if (r.Length == 1 && r[0].Length == 0) continue;
            string Get(string name) => column.TryGetValue(name, out var c) && c < r.Length ? r[c].Trim() : "";
            string where = $"{file} row {n}";
            BoundingBox Box(string prefix)
            {
                var v = new double[4];
                string[] names = [$"{prefix}_xmin", $"{prefix}_ymin", $"{prefix}_xmax", $"{prefix}_ymax"];
                for (int i = 0; i < 4; i++)
                    if (!double.TryParse(Get(names[i]), NumberStyles.Float, CultureInfo.InvariantCulture, out v[i]) || !double.IsFinite(v[i]))
                        throw new InvalidDataException($"{where}: {names[i]} '{Get(names[i])}' is not a number");
                if (!(v[2] > v[0] && v[3] > v[1])) throw new InvalidDataException($"{where}: {prefix} box ({v[0]}, {v[1]}, {v[2]}, {v[3]}) is empty");
                return new BoundingBox(v[0], v[1], v[2], v[3]);
            }
            string Image(string which)
            {
                var id = Get($"{which}_image_id");
                return paths.TryGetValue(id, out var p) ? p : throw new InvalidDataException($"{where}: {which} image '{id}' is not in the folder's annotation file");
            }
            var (referenceId, targetId) = (Get("reference_image_id"), Get("target_image_id"));
            if (referenceId == targetId) throw new InvalidDataException($"{where}: reference and target are the same image ('{targetId}'); a transfer pair needs two");
            var split = Get("split");
            pairs.Add(new Pair(Get("pair_id"), Get("category"), referenceId, Image("reference"), Box("reference"), targetId, Image("target"), Box("target"),
                split.Length == 0 ? "training" : split.ToLowerInvariant(), n));
        }
        if (pairs.Count == 0) throw new InvalidDataException($"{file}: no pairs");
        return (pairs, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }
}
