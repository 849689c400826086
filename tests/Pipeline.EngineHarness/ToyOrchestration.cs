using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;

namespace Pipeline.EngineHarness;

/// <summary>Input of <see cref="ToyFanOut"/>: items <see cref="First"/> .. First + Items - 1.</summary>
public sealed record ToyInput(int Items, int DelayMs, int First = 0);

public sealed record ItemInput(int Item, int DelayMs);

public sealed record ToyItemResult(int Item, string Blob);

/// <summary>
/// The toy orchestration of the engine tests: fans out <see cref="ToyInput.Items"/> blob-writing activities, then
/// summarises. Deterministic, so it replays after a crash.
/// </summary>
public sealed class ToyFanOut : Orchestrator<ToyInput, int>
{
    /// <summary>The run's default activity retry (<see cref="RetryOptions"/>): an activity that meets storage down
    /// beyond its storage client's own retries fails, and the engine runs it again after a durable timer.</summary>
    private static readonly RetryPolicy ActivityRetry = new RetryOptions().ToPolicy();

    public override async Task<int> RunAsync(IRunContext context, ToyInput input)
    {
        context.SetCustomStatus(new { stage = "fan-out" });
        var calls = Enumerable.Range(0, input.Items)
            .Select(i => context.CallActivityAsync<ToyItemResult>(WriteItem.ActivityName, new ItemInput(input.First + i, input.DelayMs), ActivityRetry))
            .ToList();
        var results = await Task.WhenAll(calls);
        context.SetCustomStatus(new { stage = "summary" });
        return await context.CallActivityAsync<int>(Summarize.ActivityName, results.Select(r => r.Item).ToArray());
    }
}

/// <summary>A parent of <see cref="ToyFanOut"/> children ("{id}-c{n}", <c>Children</c> of <c>ItemsPerChild</c> items each,
/// run one after another, so there is a step of the parent between every child's completion and the next child).</summary>
public sealed record ToyParentInput(int Children, int ItemsPerChild, int DelayMs);

public sealed class ToyParent : Orchestrator<ToyParentInput, int>
{
    public override async Task<int> RunAsync(IRunContext context, ToyParentInput input)
    {
        int total = 0;
        for (int c = 0; c < input.Children; c++)
        {
            context.SetCustomStatus(new { stage = $"child {c}" });
            total += await context.CallSubOrchestratorAsync<int>(nameof(ToyFanOut), $"{context.InstanceId}-c{c}",
                new ToyInput(input.ItemsPerChild, input.DelayMs, c * input.ItemsPerChild));
        }
        return total;
    }
}

/// <summary>
/// Writes toy/out/{item}.txt once (write-if-absent) and, on every execution attempt, a marker blob
/// toy/markers/{item}/{processId}-{guid}, so a test can count how often each item ran, and in which process.
/// </summary>
public sealed class WriteItem(BlobContainerClient container) : Activity<ItemInput, ToyItemResult>
{
    public const string ActivityName = "WriteItem";
    public override string Name => ActivityName;

    public static string OutputBlob(int item) => $"out/{item:D4}.txt";
    public static string MarkerPrefix(int item) => $"markers/{item:D4}/";

    public override async Task<ToyItemResult> RunAsync(ItemInput input, CancellationToken cancellationToken)
    {
        // overwrite: a request retried by the client after a lost response (storage restarting) finds its own marker
        await container.GetBlobClient($"{MarkerPrefix(input.Item)}{Environment.ProcessId}-{Guid.NewGuid():N}").UploadAsync(new BinaryData(Array.Empty<byte>()), overwrite: true, cancellationToken);
        if (input.DelayMs > 0) await Task.Delay(input.DelayMs, cancellationToken);
        string blob = OutputBlob(input.Item);
        try
        {
            await container.GetBlobClient(blob).UploadAsync(new BinaryData(Encoding.UTF8.GetBytes($"item {input.Item}")),
                new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 409) { } // written by an earlier attempt: idempotent
        return new ToyItemResult(input.Item, blob);
    }
}

/// <summary>Checks every output exists and returns how many there are.</summary>
public sealed class Summarize(BlobContainerClient container) : Activity<int[], int>
{
    public const string ActivityName = "Summarize";
    public override string Name => ActivityName;

    public override async Task<int> RunAsync(int[] items, CancellationToken cancellationToken)
    {
        foreach (int item in items)
            if (!await container.GetBlobClient(WriteItem.OutputBlob(item)).ExistsAsync(cancellationToken))
                throw new InvalidOperationException($"Output of item {item} is missing.");
        return items.Length;
    }
}
