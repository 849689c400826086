using Pipeline.Core.Domains;
using Pipeline.Core.Training;
using Pipeline.Imaging.Synthetic;
using Pipeline.Mammography.Training;

namespace Pipeline.Inference.Tests.Training;

/// <summary>
/// The training job's input for the tests: a small synthetic mammography dataset (16-bit DICOMs, VinDr CSV) and a few
/// lesion-transfer pairs, exported by <see cref="MammographyTrainingExport"/>, i.e. prepared by the inference code, as
/// `pipeline train-data export --transfer-pairs ... --insertions 1` does: every pair kind the training job and
/// phantom-net read.
/// </summary>
internal static class TrainingData
{
    public static async Task<(string Folder, TrainingDataManifest Manifest)> ExportAsync(string workDir, int resolution, int variants)
    {
        var dataset = Path.Combine(workDir, "dataset");
        var output = Path.Combine(workDir, $"tensors-{resolution}");
        var pairs = Path.Combine(workDir, "transfer-pairs");
        if (!Directory.Exists(dataset))
        {
            await SyntheticMammoDataset.WriteToFolderAsync(new SyntheticMammoOptions { Count = 6, Seed = 1, Rows = 384, Columns = 256 }, dataset);
            await LesionTransferPairs.WriteToFolderAsync(new LesionTransferOptions { Pairs = 4, Seed = 2, Rows = 384, Columns = 256, TestFraction = 0.25 }, pairs);
        }
        var manifest = await MammographyTrainingExport.ExportAsync(dataset, output, new TrainingExportOptions
        {
            Preparation = PreparationSettings.Default with { Resolution = resolution, ReferenceSize = resolution },
            Variants = variants, Seed = 0, TransferPairs = pairs, Insertions = 1,
        }, null, CancellationToken.None);
        return (output, manifest);
    }
}
