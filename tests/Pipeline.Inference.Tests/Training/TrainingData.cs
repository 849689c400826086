using Pipeline.Core.Domains;
using Pipeline.Core.Training;
using Pipeline.Imaging.Synthetic;
using Pipeline.Mammography.Training;

namespace Pipeline.Inference.Tests.Training;

/// <summary>
/// The training job's input for the tests: a small synthetic mammography dataset (16-bit DICOMs, VinDr CSV) exported by
/// <see cref="MammographyTrainingExport"/>, i.e. prepared by the inference code, as `pipeline train-data export` does.
/// </summary>
internal static class TrainingData
{
    public static async Task<(string Folder, TrainingDataManifest Manifest)> ExportAsync(string workDir, int resolution, int variants)
    {
        var dataset = Path.Combine(workDir, "dataset");
        var output = Path.Combine(workDir, $"tensors-{resolution}");
        await SyntheticMammoDataset.WriteToFolderAsync(new SyntheticMammoOptions { Count = 6, Seed = 1, Rows = 384, Columns = 256 }, dataset);
        var manifest = await MammographyTrainingExport.ExportAsync(dataset, output, new TrainingExportOptions
        {
            Preparation = PreparationSettings.Default with { Resolution = resolution, ReferenceSize = resolution },
            Variants = variants, Seed = 0,
        }, null, CancellationToken.None);
        return (output, manifest);
    }
}
