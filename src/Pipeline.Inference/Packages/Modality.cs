namespace Pipeline.Inference.Packages;

/// <summary>A channel group of the model's sample (docs/model-package.md, "Several modalities"): e.g. "camera" (3) or
/// "range" (2). Each has its own edit mask channel and, when the denoiser takes a box, its own 8 box corners.</summary>
public sealed record Modality(string Name, int Channels);
