using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;

namespace Pipeline.Core.Training;

/// <summary>
/// The contract between `pipeline train-data export` (C#, which prepares the examples with the inference code) and the
/// training job (training/data.py, which reads only these tensors): {out}/manifest.json next to one folder per split
/// holding a .npy per tensor (<see cref="NpyWriter"/>) and the split's examples (items.json). docs/training.md,
/// "Training data".
/// </summary>
public sealed record TrainingDataManifest
{
    public const string FileName = "manifest.json";
    public const string FormatName = "pipeline-training-tensors";

    public string Format { get; init; } = FormatName;
    public int FormatVersion { get; init; } = 1;
    /// <summary>The domain that prepared the examples (e.g. "mammography").</summary>
    public required string Domain { get; init; }
    /// <summary>How the examples were prepared; the training job writes these into model.json.</summary>
    public required PreparationSettings Preparation { get; init; }
    public required TrainingDataSource Source { get; init; }
    /// <summary>Splits by name (<see cref="TrainingSplits"/>).</summary>
    public required IReadOnlyDictionary<string, TrainingSplit> Splits { get; init; }
    /// <summary>Examples that could not be prepared, with the reason (the export goes on without them).</summary>
    public IReadOnlyList<TrainingSkip> Skipped { get; init; } = [];
    /// <summary>Dataset problems found while reading it (e.g. annotation rows naming images that are not there).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>Where the examples come from and how they were drawn.</summary>
/// <param name="Dataset">The dataset folder as given.</param>
/// <param name="AnnotationFile">The annotation file used, relative to the dataset folder.</param>
/// <param name="AnnotationSha256">Its SHA-256 (identifies the data with the images' own hashes in items.json).</param>
/// <param name="Seed">The export seed: every example's seed (and so its crop ratio) derives from it.</param>
/// <param name="Variants">Training examples per lesion (each with its own crop ratio); validation has one.</param>
/// <param name="SplitRule">How images were assigned to splits.</param>
/// <param name="TransferPairs">The lesion-transfer pair folder as given (null: none).</param>
/// <param name="TransferPairsSha256">SHA-256 of its pairs file.</param>
/// <param name="Insertions">Insertion examples per lesion.</param>
public sealed record TrainingDataSource(string Dataset, string AnnotationFile, string AnnotationSha256, ulong Seed, int Variants, string SplitRule,
    string? TransferPairs = null, string? TransferPairsSha256 = null, int Insertions = 0);

/// <summary>The split names.</summary>
public static class TrainingSplits
{
    public const string Train = "train";
    public const string Validation = "val";
}

/// <summary>Kinds of training pairs. An export holds examples of one or more kinds; the training job picks by kind.</summary>
public static class TrainingPairKinds
{
    /// <summary>The reference is the target lesion itself (self-supervised reinsertion, as AnydoorMed trains).</summary>
    public const string Reinsertion = "reinsertion";
    /// <summary>The same lesion drawn over two tissues: the target crop is the truth, the reference comes from the other
    /// image, so the reference's background is other tissue (`pipeline synth lesion-transfer`).</summary>
    public const string LesionTransfer = "lesion-transfer";
    /// <summary>A lesion as the reference of an insertion into a lesion-free image at a box drawn in its breast tissue, as
    /// a run plans insertions: no truth for the box (the target crop is tissue, the copy&amp;paste crop the baseline).</summary>
    public const string Insertion = "insertion";
}

/// <summary>Which folder an example's image paths are relative to.</summary>
public static class TrainingExampleSources
{
    /// <summary>The export's dataset folder (<see cref="TrainingDataSource.Dataset"/>).</summary>
    public const string Dataset = "dataset";
    /// <summary>The lesion-transfer pair folder (<see cref="TrainingDataSource.TransferPairs"/>).</summary>
    public const string TransferPairs = "transfer-pairs";
}

/// <summary>One split: the number of examples, the tensor files by name (<see cref="ModelTensorNames"/> plus
/// <see cref="TrainingTensorNames"/>), and the file listing the examples (row i of every tensor is example i).</summary>
public sealed record TrainingSplit(int Count, IReadOnlyDictionary<string, TrainingTensorFile> Tensors, string Items, IReadOnlyDictionary<string, int> PairKinds);

/// <summary>A .npy file of a split: its path relative to the manifest, NumPy dtype string and shape.</summary>
public sealed record TrainingTensorFile(string File, string Dtype, IReadOnlyList<int> Shape);

/// <summary>Tensors of a training split besides the model inputs.</summary>
public static class TrainingTensorNames
{
    /// <summary>int32 [N, 4]: the object's box in model pixels (left, top, width, height).</summary>
    public const string Box = "box";
}

/// <summary>One example of a split (items.json): what it was prepared from.</summary>
public sealed record TrainingExample
{
    public required int Index { get; init; }
    public required string Kind { get; init; }
    /// <summary>The folder the image paths are relative to (<see cref="TrainingExampleSources"/>).</summary>
    public string Source { get; init; } = TrainingExampleSources.Dataset;
    public required string ImageId { get; init; }
    /// <summary>The target image, relative to the dataset folder.</summary>
    public required string Image { get; init; }
    public required string ClassName { get; init; }
    /// <summary>The object's box in the target image (source pixels).</summary>
    public required BoundingBox Box { get; init; }
    public required string ReferenceImage { get; init; }
    public required BoundingBox ReferenceBox { get; init; }
    /// <summary>The example's seed (the crop ratio is drawn from it, as at inference).</summary>
    public required long Seed { get; init; }
    public required CropGeometry Geometry { get; init; }
}

/// <summary>An example that was not exported, and why.</summary>
public sealed record TrainingSkip(string Item, string Reason);
