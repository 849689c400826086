using System.Text;
using System.Text.Json;

namespace Pipeline.Core.Contracts;

/// <summary>The outcome of reading a request: the request when valid, and every problem found.</summary>
public sealed record RequestValidationResult(AugmentationRequest? Request, IReadOnlyList<ValidationProblem> Problems)
{
    public bool IsValid => Request is not null && Problems.Count == 0;
}

/// <summary>
/// Reads and validates an <see cref="AugmentationRequest"/>: structure, types, ranges and names against
/// schemas/augmentation-request.schema.json (every problem at once), then the rules a schema cannot state.
/// </summary>
public static class AugmentationRequestValidator
{
    /// <summary>Upper bound of the items one run may ask for (a run of more is split by the user into several runs).</summary>
    public const long MaxTotalItems = 1_000_000;

    public const string SchemaName = "augmentation-request";

    public static RequestValidationResult Parse(string json) => Parse(Encoding.UTF8.GetBytes(json));

    public static RequestValidationResult Parse(ReadOnlySpan<byte> utf8Json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8Json.ToArray(), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            return new(null, [new("$", $"malformed JSON: {e.Message}")]);
        }
        using (doc) return Validate(doc.RootElement);
    }

    /// <summary>Validates a request built in code (e.g. by the CLI) by the same rules as a queue message.</summary>
    public static RequestValidationResult Validate(AugmentationRequest request) =>
        Parse(PipelineJson.SerializeToUtf8Bytes(request));

    public static RequestValidationResult Validate(JsonElement root)
    {
        var problems = new List<ValidationProblem>(JsonSchema.Load(SchemaName).Validate(root));
        CheckBeyondSchema(root, problems); // also when the schema found problems: every problem at once
        if (problems.Count > 0) return new(null, problems);
        try
        {
            return new(root.Deserialize<AugmentationRequest>(PipelineJson.Options)!, problems);
        }
        catch (JsonException e) // the schema accepted it, so this is a disagreement between schema and record
        {
            return new(null, [new(e.Path ?? "$", $"cannot be read: {e.Message}")]);
        }
    }

    /// <summary>The rules a schema cannot state, read from the JSON itself so that they apply to any document the
    /// schema has problems with too (parts of the wrong type are skipped; the schema reports those).</summary>
    private static void CheckBeyondSchema(JsonElement root, List<ValidationProblem> problems)
    {
        if (root.ValueKind != JsonValueKind.Object) return;
        if (root.TryGetProperty("tasks", out var tasks) && tasks.ValueKind == JsonValueKind.Array)
        {
            long total = 0;
            int i = 0;
            foreach (var t in tasks.EnumerateArray())
            {
                if (t.ValueKind == JsonValueKind.Object)
                {
                    bool hasCount = t.TryGetProperty("count", out var count);
                    bool hasTargets = t.TryGetProperty("targets", out var targets);
                    bool hasEdits = t.TryGetProperty("edits", out var edits);
                    int given = (hasCount ? 1 : 0) + (hasTargets ? 1 : 0) + (hasEdits ? 1 : 0);
                    if (given != 1)
                        problems.Add(new($"$.tasks[{i}]", given > 1
                            ? "has more than one of 'count', 'targets' and 'edits'; give one"
                            : "needs either 'count' or 'targets' (per-class counts, e.g. {\"Mass\": 50}) or 'edits' (driving: explicit boxes)"));
                    if (hasEdits && edits.ValueKind == JsonValueKind.Array) total += edits.GetArrayLength();
                    if (hasCount && count.ValueKind == JsonValueKind.Number && count.TryGetInt64(out long c) && c > 0) total += c;
                    if (hasTargets && targets.ValueKind == JsonValueKind.Object)
                        foreach (var p in targets.EnumerateObject())
                            if (p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt64(out long n) && n > 0) total += n;
                }
                i++;
            }
            if (total > MaxTotalItems)
                problems.Add(new("$.tasks", $"ask for {total} items in total; at most {MaxTotalItems} per run"));
        }
        if (root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String
            && !string.IsNullOrEmpty(model.GetString()) && !ModelReference.TryParse(model.GetString(), out _, out var modelError))
            problems.Add(new("$.model", modelError!));
    }
}
