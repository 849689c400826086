using System.Security.Cryptography;
using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Inference.Sampling;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;

namespace Pipeline.Host.Runs;

/// <summary>
/// Compose: for each item with a sample, builds the sample's lineage and lets the run's domain write the output in the
/// dataset's format (<see cref="IItemComposer"/>; for mammography a derived DICOM with the sample pasted back), then
/// writes runs/{id}/out/images/{item}{ext}, the files the domain writes beside it (for mammography the lesion's DICOM
/// Segmentation, {item}.seg.dcm) and the lineage JSON runs/{id}/out/lineage/{item}.json.
/// </summary>
public sealed class ComposeActivity(PipelineStorage storage, ModelProvider models, RunDomains domains) : Activity<ShardStageInput, ShardStageResult>
{
    public override string Name => RunActivityNames.Compose;

    public override async Task<ShardStageResult> RunAsync(ShardStageInput input, CancellationToken cancellationToken)
    {
        var (stage, finished) = await ShardStage.BeginAsync(storage, models, domains, input, RunBlobs.ComposeShard(input.Shard.Index), cancellationToken).ConfigureAwait(false);
        if (stage is null) return finished!;
        var (run, plan, package) = (stage.Run, stage.Plan, stage.Package);
        var prep = await ShardDocuments.RequireManifestAsync(run, RunBlobs.PrepShard(input.Shard.Index), cancellationToken).ConfigureAwait(false);
        var gen = await ShardDocuments.RequireManifestAsync(run, RunBlobs.GenShard(input.Shard.Index), cancellationToken).ConfigureAwait(false);
        var composer = stage.Domain.Composer;
        var sampler = RunSamplingOptions.For(plan.Request, package);
        var deidentify = plan.Request.Output?.Deidentify ?? true;
        var format = plan.Request.Output?.Format ?? OutputFormat.Same;
        return await stage.ForEachItemAsync("compose", async item =>
        {
            var p = prep.Find(item.ItemId);
            var g = gen.Find(item.ItemId);
            string? earlier = p?.Error ?? g?.Error ?? (p is null || g is null ? "no result from an earlier stage" : null);
            if (earlier is not null) return new ItemStage(item.ItemId, Error: earlier);
            var generated = TensorBundle.Parse((await run.ReadAsync(RunBlobs.GenTensors(item.ItemId), cancellationToken).ConfigureAwait(false))!.ToArray(), item.ItemId)
                .Get(ModelTensorNames.Sample, item.ItemId);
            var source = (await storage.ReadAsync(BlobPath.Parse(item.TargetImage), cancellationToken).ConfigureAwait(false))
                         ?? throw new FileNotFoundException($"{item.TargetImage} does not exist");
            string outBlob = RunBlobs.OutputImage(item.ItemId, composer.OutputExtension(item, format));
            var lineage = new Lineage
            {
                RunId = input.RunId, ItemId = item.ItemId, Mode = item.Mode,
                SourceImage = item.TargetImage, SourceImageSha256 = Convert.ToHexStringLower(SHA256.HashData(source.ToMemory().Span)),
                ReferenceImage = item.ReferenceImage, ReferenceBox = item.ReferenceBox, TargetBox = item.TargetBox,
                ClassName = item.ClassName, Model = new ModelIdentity(plan.Model, package.ManifestSha256), Seed = item.Seed,
                Sampler = new SamplerSettings
                {
                    Scheduler = Enum.Parse<SchedulerKind>(sampler.Scheduler!, ignoreCase: true), Steps = sampler.Steps,
                    Guidance = sampler.GuidanceScale, Eta = sampler.Eta,
                },
                Output = $"runs/{input.RunId}/{outBlob}",
            };
            var output = await composer.ComposeAsync(new ComposeInput(input.RunId, item, source.ToMemory(), generated, p!.Geometry!, lineage, deidentify, format),
                new StorageBlobReader(storage), cancellationToken).ConfigureAwait(false);
            var written = await run.WriteIfAbsentAsync(outBlob, BinaryData.FromBytes(output.Content), output.ContentType, cancellationToken).ConfigureAwait(false);
            foreach (var sidecar in output.Sidecars)
                await run.WriteIfAbsentAsync(RunBlobs.OutputImage(item.ItemId, sidecar.Suffix), BinaryData.FromBytes(sidecar.Content), sidecar.ContentType, cancellationToken).ConfigureAwait(false);
            var lineageBlob = RunBlobs.OutputLineage(item.ItemId);
            await run.WriteJsonIfAbsentAsync(lineageBlob, lineage with { OutputSha256 = written.Sha256, OutputEncoding = output.Encoding }, cancellationToken).ConfigureAwait(false);
            return new ItemStage(item.ItemId, Geometry: p.Geometry, Output: $"runs/{input.RunId}/{outBlob}", OutputSha256: written.Sha256,
                Lineage: $"runs/{input.RunId}/{lineageBlob}", Metrics: output.Metrics);
        }, cancellationToken).ConfigureAwait(false);
    }
}
