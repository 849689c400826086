namespace Pipeline.Storage.Blobs;

/// <summary>A blob name (or part of one) that could escape its prefix or that Azure would misread.</summary>
public sealed class InvalidBlobNameException(string name, string problem)
    : ArgumentException($"Blob name '{Printable(name)}' is not valid: {problem}.")
{
    public string BlobName { get; } = name;
    public string Problem { get; } = problem;

    private static string Printable(string s) =>
        new(s.Take(200).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}

/// <summary>
/// Rules for blob names and relative paths, checked before any request, so that no input (a request field, a file name
/// in an uploaded folder, an item id) can leave the prefix it is joined to: no empty, "." or ".." segment, no leading or
/// trailing slash, no backslash, no control character, no drive letter, no segment with leading or trailing
/// whitespace, and length limits (Azure allows 1,024 characters per name; 254 path segments).
/// </summary>
public static class BlobNames
{
    public const int MaxNameLength = 1024;
    public const int MaxSegmentLength = 255;
    public const int MaxSegments = 254;

    /// <summary>Throws <see cref="InvalidBlobNameException"/> naming the problem; returns <paramref name="name"/>.</summary>
    public static string Check(string? name)
    {
        string? problem = FindProblem(name);
        return problem is null ? name! : throw new InvalidBlobNameException(name ?? "", problem);
    }

    public static bool IsValid(string? name) => FindProblem(name) is null;

    /// <summary>The first problem of <paramref name="name"/>, or null when it is a valid relative blob name.</summary>
    public static string? FindProblem(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "it is empty";
        if (name.Length > MaxNameLength) return $"it has {name.Length} characters; at most {MaxNameLength}";
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsControl(c)) return $"it contains the control character U+{(int)c:X4}";
            if (c == '\\') return "it contains a backslash (use '/' between segments)";
            if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1])) { i++; continue; }
            if (char.IsSurrogate(c)) return "it contains an unpaired surrogate (not valid UTF-16)";
        }
        if (name[0] == '/') return "it is absolute (starts with '/')";
        if (name.Length >= 2 && name[1] == ':' && char.IsAsciiLetter(name[0])) return "it starts with a drive letter";
        if (name[^1] == '/') return "it ends with '/'";
        var segments = name.Split('/');
        if (segments.Length > MaxSegments) return $"it has {segments.Length} segments; at most {MaxSegments}";
        foreach (var s in segments)
        {
            if (s.Length == 0) return "it contains an empty segment ('//')";
            if (s is "." or "..") return $"segment '{s}' would leave its prefix";
            if (s.Length > MaxSegmentLength) return $"a segment has {s.Length} characters; at most {MaxSegmentLength}";
            if (char.IsWhiteSpace(s[0]) || char.IsWhiteSpace(s[^1])) return $"segment '{s}' starts or ends with whitespace";
        }
        return null;
    }

    /// <summary>Joins validated parts with '/'; each part may itself hold several segments.</summary>
    public static string Join(params string[] parts)
    {
        foreach (var p in parts) Check(p);
        return Check(string.Join('/', parts));
    }
}
