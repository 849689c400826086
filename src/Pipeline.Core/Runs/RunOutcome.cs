using System.Text.Json;
using Pipeline.Core.Contracts;

namespace Pipeline.Core.Runs;

/// <summary>
/// How a completed orchestration's output maps onto the run's final state: an output object with a "state" of
/// completedWithFailures, failed or rejected (as <see cref="RunSummary"/> has) sets that state, with its "problems" as
/// the error; anything else is Completed. Both hosts (the local engine and the Functions adapter) use this.
/// </summary>
public static class RunOutcome
{
    public static (RunState State, string? Error) FromOutput(string? outputJson)
    {
        if (string.IsNullOrEmpty(outputJson)) return (RunState.Completed, null);
        try
        {
            using var doc = JsonDocument.Parse(outputJson);
            if (doc.RootElement.ValueKind != JsonValueKind.Object ||
                !doc.RootElement.TryGetProperty("state", out var s) || s.ValueKind != JsonValueKind.String ||
                !Enum.TryParse<RunState>(s.GetString(), ignoreCase: true, out var state) ||
                state is not (RunState.CompletedWithFailures or RunState.Failed or RunState.Rejected))
                return (RunState.Completed, null);
            string? error = null;
            if (doc.RootElement.TryGetProperty("problems", out var p) && p.ValueKind == JsonValueKind.Array && p.GetArrayLength() > 0)
                error = string.Join("; ", p.EnumerateArray().Select(e => e.ToString()));
            else if (state == RunState.Failed) error = "every item failed (see the report)";
            return (state, error);
        }
        catch (JsonException) { return (RunState.Completed, null); }
    }
}
