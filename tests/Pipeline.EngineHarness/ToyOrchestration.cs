using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Orchestration;

namespace Pipeline.EngineHarness;

/// <summary>Input of <see cref="ToyFanOut"/>: <see cref="Items"/> WriteItem calls, each pausing <see cref="DelayMs"/>.</summary>
public sealed record ToyInput(int Items, int DelayMs);

public sealed record ItemInput(int Item, int DelayMs);

public sealed record ToyItemResult(int Item, string Blob);

/// <summary>
/// The toy orchestration of the engine tests: fans out <see cref="ToyInput.Items"/> blob-writing activities, then
/// summarises. Deterministic, so it replays after a crash.
/// </summary>
public sealed class ToyFanOut : Orchestrator<ToyInput, int>
{
    public override async Task<int> RunAsync(IRunContext context, ToyInput input)
    {
        context.SetCustomStatus(new { stage = "fan-out" });
        var calls = Enumerable.Range(0, input.Items)
            .Select(i => context.CallActivityAsync<ToyItemResult>(WriteItem.ActivityName, new ItemInput(i, input.DelayMs)))
            .ToList();
        var results = await Task.WhenAll(calls);
        context.SetCustomStatus(new { stage = "summary" });
        return await context.CallActivityAsync<int>(Summarize.ActivityName, results.Select(r => r.Item).ToArray());
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
        await container.GetBlobClient($"{MarkerPrefix(input.Item)}{Environment.ProcessId}-{Guid.NewGuid():N}").UploadAsync(new BinaryData(Array.Empty<byte>()), cancellationToken);
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
