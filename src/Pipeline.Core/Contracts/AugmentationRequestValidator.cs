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
        if (problems.Count > 0) return new(null, problems);

        AugmentationRequest request;
        try
        {
            request = root.Deserialize<AugmentationRequest>(PipelineJson.Options)!;
        }
        catch (JsonException e) // the schema accepted it, so this is a disagreement between schema and record
        {
            return new(null, [new(e.Path ?? "$", $"cannot be read: {e.Message}")]);
        }

        for (int i = 0; i < request.Tasks.Count; i++)
        {
            var t = request.Tasks[i];
            if (t.Count is null == t.Targets is null)
                problems.Add(new($"$.tasks[{i}]", t.Count is null
                    ? "needs either 'count' or 'targets' (per-class counts, e.g. {\"Mass\": 50})"
                    : "has both 'count' and 'targets'; give one"));
        }
        if (request.TotalItems > MaxTotalItems)
            problems.Add(new("$.tasks", $"ask for {request.TotalItems} items in total; at most {MaxTotalItems} per run"));
        if (!ModelReference.TryParse(request.Model, out _, out var modelError))
            problems.Add(new("$.model", modelError!));
        return problems.Count == 0 ? new(request, problems) : new(null, problems);
    }
}
