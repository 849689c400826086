using System.Text.RegularExpressions;

namespace Pipeline.Core.Contracts;

/// <summary>
/// Rules for the names that become blob path segments and orchestration instance ids (run ids, dataset names, model
/// names and versions). Each is one path segment that cannot be "." or "..", cannot hold a slash, backslash or control
/// character, and is short enough to keep every blob name far below Azure's 1,024-character limit. The same patterns are
/// in schemas/*.schema.json.
/// </summary>
public static partial class ResourceNames
{
    /// <summary>Run ids: lowercase letters, digits and dashes, 1-63 characters, starting with a letter or digit
    /// (also valid as a Durable Functions instance id and a blob prefix).</summary>
    public const string RunIdPattern = "^[a-z0-9][a-z0-9-]{0,62}$";

    /// <summary>Dataset and model names: letters, digits, '.', '_' and '-', 1-64 characters, starting with a letter or digit.</summary>
    public const string NamePattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";

    /// <summary>Model versions: like names (e.g. 1.0.0, 2024-06-01).</summary>
    public const string VersionPattern = NamePattern;

    [GeneratedRegex(RunIdPattern, RegexOptions.CultureInvariant)]
    private static partial Regex RunIdRegex();

    [GeneratedRegex(NamePattern, RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();

    public static bool IsValidRunId(string? value) => value is not null && RunIdRegex().IsMatch(value);

    /// <summary>A dataset or model name or a model version. ".." never matches: it must start with a letter or digit.</summary>
    public static bool IsValidName(string? value) => value is not null && NameRegex().IsMatch(value);

    /// <summary>Throws <see cref="ArgumentException"/> naming the run id and the rule.</summary>
    public static string CheckRunId(string? value, string paramName = "runId") =>
        IsValidRunId(value) ? value! : throw new ArgumentException(
            $"Run id '{value}' is not valid: use 1-63 lowercase letters, digits and dashes, starting with a letter or digit.", paramName);

    /// <summary>Throws <see cref="ArgumentException"/> naming the value, what it is and the rule.</summary>
    public static string CheckName(string? value, string what, string paramName = "name") =>
        IsValidName(value) ? value! : throw new ArgumentException(
            $"{what} '{value}' is not valid: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.", paramName);

    /// <summary>A new run id, e.g. run-20261122-061530-3f9a1c (sortable by creation time, unique by its random tail).</summary>
    public static string NewRunId(DateTimeOffset now) =>
        $"run-{now.UtcDateTime:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}";
}
