namespace Pipeline.Host.Orchestration;

/// <summary>
/// Rules for instance ids and orchestrator/activity/event names. An instance id becomes part of blob names
/// (runs/{id}/status.json), so it is limited to segments of [A-Za-z0-9._:-] joined by '/' (children of a run are
/// named "{runId}/shard-3"), without "." or ".." segments, at most 200 characters.
/// </summary>
public static class InstanceIds
{
    public const int MaxLength = 200;

    public static void Validate(string? instanceId)
    {
        if (string.IsNullOrEmpty(instanceId)) throw new ArgumentException("An instance id is required.");
        if (instanceId.Length > MaxLength)
            throw new ArgumentException($"Instance id '{instanceId[..40]}...' is {instanceId.Length} characters; at most {MaxLength} are allowed.");
        foreach (var segment in instanceId.Split('/'))
        {
            if (segment.Length == 0 || segment is "." or "..")
                throw new ArgumentException($"Instance id '{instanceId}' has an empty, '.' or '..' segment.");
            foreach (char c in segment)
                if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-'))
                    throw new ArgumentException($"Instance id '{instanceId}' contains '{c}'; only letters, digits, '.', '_', ':', '-' and '/' are allowed.");
        }
    }

    /// <summary>The id as one flat blob-name segment: '/' becomes '~' (which ids cannot contain), so no id is a prefix folder of another.</summary>
    public static string ToKey(string instanceId) => instanceId.Replace('/', '~');

    public static string FromKey(string key) => key.Replace('~', '/');

    /// <summary>Orchestrator, activity and event names: 1-200 printable characters.</summary>
    public static void ValidateName(string? name, string what)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException($"{what} name is required.");
        if (name.Length > 200) throw new ArgumentException($"{what} name '{name[..40]}...' is longer than 200 characters.");
        foreach (char c in name)
            if (char.IsControl(c)) throw new ArgumentException($"{what} name '{name}' contains a control character.");
    }
}
