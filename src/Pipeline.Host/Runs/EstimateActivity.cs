using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Inference.Sampling;
using Pipeline.Inference.Schedulers;
using Pipeline.Storage;

namespace Pipeline.Host.Runs;

/// <summary>
/// Estimate (dry run): items, denoiser calls and the expected time on this machine, from a quick calibration (a few
/// denoiser calls of the model at the run's batch shape), written to runs/{id}/estimate.json.
/// </summary>
public sealed class EstimateActivity(PipelineStorage storage, ModelProvider models, ShardSampler sampler) : Activity<RunStageInput, EstimateOutcome>
{
    public override string Name => RunActivityNames.Estimate;

    public override async Task<EstimateOutcome> RunAsync(RunStageInput input, CancellationToken cancellationToken)
    {
        var run = storage.Run(input.RunId);
        var existing = await run.ReadJsonAsync<EstimateOutcome>(RunBlobs.Estimate, cancellationToken).ConfigureAwait(false);
        if (existing is not null) return existing.Value;
        var plan = await ShardDocuments.ReadRunPlanAsync(run, cancellationToken).ConfigureAwait(false);
        var package = await models.GetPackageAsync(plan.Model, cancellationToken).ConfigureAwait(false);
        var options = RunSamplingOptions.For(plan.Request, package);
        var scheduler = SchedulerFactory.Create(options.Scheduler!, package.Schedule with { Eta = options.Eta ?? 0 });
        scheduler.SetTimesteps(options.Steps!.Value);
        bool cfg = (options.GuidanceScale ?? 1.0) != 1.0;
        long itemSteps = (long)plan.ItemCount * scheduler.ModelEvaluations;
        long calls = itemSteps * (cfg ? 2 : 1); // denoiser rows: CFG stacks the unconditional and conditional branches

        double perItemStep = sampler.SecondsPerItemStep(package, options, cancellationToken);
        var estimate = new EstimateOutcome(plan.ItemCount, calls, perItemStep / (cfg ? 2 : 1), itemSteps * perItemStep, $"runs/{input.RunId}/{RunBlobs.Estimate}");
        await run.WriteJsonIfAbsentAsync(RunBlobs.Estimate, estimate, cancellationToken).ConfigureAwait(false);
        return estimate;
    }
}
