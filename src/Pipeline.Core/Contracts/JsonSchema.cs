using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Pipeline.Core.Contracts;

/// <summary>A problem found in a document: where (a JSONPath such as <c>$.tasks[0].count</c>) and what.</summary>
public sealed record ValidationProblem(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>
/// A validator for the subset of JSON Schema (draft 2020-12) that the committed schemas under schemas/ use, so the schema
/// files are the single statement of each message's structure and every problem is reported at once. Supported
/// keywords: type, enum, const, properties, required, additionalProperties, propertyNames, minProperties,
/// maxProperties, items, minItems, maxItems, uniqueItems, minimum, maximum, exclusiveMinimum, exclusiveMaximum,
/// minLength, maxLength, pattern, $ref (to #/$defs/...), $defs, and annotations (title, description, default, examples,
/// $comment, $schema, $id, format). A schema using any other keyword is refused when loaded, so a schema can never mean
/// more than this validator checks.
/// </summary>
public sealed class JsonSchema
{
    private static readonly HashSet<string> Annotations =
        ["$schema", "$id", "$comment", "title", "description", "default", "examples", "format", "$defs", "deprecated"];
    private static readonly HashSet<string> Assertions =
    [
        "type", "enum", "const", "properties", "required", "additionalProperties", "propertyNames", "minProperties",
        "maxProperties", "items", "minItems", "maxItems", "uniqueItems", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "minLength", "maxLength", "pattern", "$ref",
    ];

    private readonly JsonElement _root;
    private readonly Dictionary<string, Regex> _patterns = new(StringComparer.Ordinal);

    private JsonSchema(JsonElement root, string name)
    {
        _root = root;
        Name = name;
        CheckKeywords(root, "#");
    }

    /// <summary>The schema's file name (for messages).</summary>
    public string Name { get; }

    public static JsonSchema Parse(string json, string name)
    {
        using var doc = JsonDocument.Parse(json);
        return new JsonSchema(doc.RootElement.Clone(), name);
    }

    /// <summary>One of the schemas committed under schemas/ and embedded in this assembly, e.g. "augmentation-request".</summary>
    public static JsonSchema Load(string schemaName)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(schemaName, out var s)) return s;
            string resource = $"schemas/{schemaName}.schema.json";
            using var stream = typeof(JsonSchema).Assembly.GetManifestResourceStream(resource)
                ?? throw new ArgumentException($"No embedded schema '{resource}'; known: {string.Join(", ", EmbeddedSchemaNames())}.", nameof(schemaName));
            using var reader = new StreamReader(stream);
            s = Parse(reader.ReadToEnd(), schemaName + ".schema.json");
            Cache[schemaName] = s;
            return s;
        }
    }

    private static readonly Dictionary<string, JsonSchema> Cache = new(StringComparer.Ordinal);

    /// <summary>Names of the embedded schemas (without ".schema.json").</summary>
    public static IEnumerable<string> EmbeddedSchemaNames() =>
        typeof(JsonSchema).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("schemas/", StringComparison.Ordinal) && n.EndsWith(".schema.json", StringComparison.Ordinal))
            .Select(n => n["schemas/".Length..^".schema.json".Length]);

    /// <summary>Every problem of <paramref name="instance"/> against this schema; empty when valid.</summary>
    public IReadOnlyList<ValidationProblem> Validate(JsonElement instance)
    {
        var problems = new List<ValidationProblem>();
        Validate(_root, instance, "$", problems);
        return problems;
    }

    private void CheckKeywords(JsonElement schema, string at)
    {
        if (schema.ValueKind == JsonValueKind.True || schema.ValueKind == JsonValueKind.False) return;
        if (schema.ValueKind != JsonValueKind.Object)
            throw new FormatException($"{Name}: the schema at {at} must be an object or a boolean.");
        foreach (var p in schema.EnumerateObject())
        {
            if (!Annotations.Contains(p.Name) && !Assertions.Contains(p.Name))
                throw new FormatException($"{Name}: keyword '{p.Name}' at {at} is not supported by {nameof(JsonSchema)}; use only: {string.Join(", ", Assertions)}.");
            switch (p.Name)
            {
                case "properties" or "$defs":
                    foreach (var sub in p.Value.EnumerateObject()) CheckKeywords(sub.Value, $"{at}/{p.Name}/{sub.Name}");
                    break;
                case "additionalProperties" or "items" or "propertyNames":
                    CheckKeywords(p.Value, $"{at}/{p.Name}");
                    break;
                case "pattern":
                    _patterns[p.Value.GetString()!] = new Regex(p.Value.GetString()!, RegexOptions.CultureInvariant);
                    break;
                case "$ref":
                    Resolve(p.Value.GetString()!);
                    break;
            }
        }
    }

    private JsonElement Resolve(string reference)
    {
        const string prefix = "#/$defs/";
        if (!reference.StartsWith(prefix, StringComparison.Ordinal)
            || !_root.TryGetProperty("$defs", out var defs) || !defs.TryGetProperty(reference[prefix.Length..], out var target))
            throw new FormatException($"{Name}: $ref '{reference}' does not name an entry of #/$defs.");
        return target;
    }

    private void Validate(JsonElement schema, JsonElement value, string path, List<ValidationProblem> problems)
    {
        if (schema.ValueKind == JsonValueKind.True) return;
        if (schema.ValueKind == JsonValueKind.False) { problems.Add(new(path, "is not allowed here")); return; }

        if (schema.TryGetProperty("$ref", out var r)) Validate(Resolve(r.GetString()!), value, path, problems);

        if (schema.TryGetProperty("type", out var type) && !MatchesType(type, value))
        {
            problems.Add(new(path, $"must be {DescribeType(type)} (got {Describe(value)})"));
            return; // the other keywords would only repeat the type problem
        }
        if (schema.TryGetProperty("enum", out var en) && !en.EnumerateArray().Any(e => JsonEquals(e, value)))
            problems.Add(new(path, $"must be one of {string.Join(", ", en.EnumerateArray().Select(e => e.GetRawText()))} (got {value.GetRawText()})"));
        if (schema.TryGetProperty("const", out var c) && !JsonEquals(c, value))
            problems.Add(new(path, $"must be {c.GetRawText()} (got {value.GetRawText()})"));

        switch (value.ValueKind)
        {
            case JsonValueKind.Object: ValidateObject(schema, value, path, problems); break;
            case JsonValueKind.Array: ValidateArray(schema, value, path, problems); break;
            case JsonValueKind.String: ValidateString(schema, value.GetString()!, path, problems); break;
            case JsonValueKind.Number: ValidateNumber(schema, value.GetDouble(), path, problems); break;
        }
    }

    private void ValidateObject(JsonElement schema, JsonElement value, string path, List<ValidationProblem> problems)
    {
        bool hasProperties = schema.TryGetProperty("properties", out var props);
        if (schema.TryGetProperty("required", out var req))
            foreach (var name in req.EnumerateArray().Select(n => n.GetString()!))
                if (!value.TryGetProperty(name, out _)) problems.Add(new(Child(path, name), "is required"));
        int count = 0;
        schema.TryGetProperty("additionalProperties", out var additional);
        schema.TryGetProperty("propertyNames", out var names);
        foreach (var p in value.EnumerateObject())
        {
            count++;
            string childPath = Child(path, p.Name);
            if (names.ValueKind != JsonValueKind.Undefined)
            {
                using var nameDoc = JsonDocument.Parse(JsonSerializer.Serialize(p.Name));
                var nameProblems = new List<ValidationProblem>();
                Validate(names, nameDoc.RootElement, childPath, nameProblems);
                foreach (var np in nameProblems) problems.Add(new(childPath, "property name " + np.Message));
            }
            if (hasProperties && props.TryGetProperty(p.Name, out var sub)) Validate(sub, p.Value, childPath, problems);
            else if (additional.ValueKind == JsonValueKind.False) problems.Add(new(childPath, "is not a known property"));
            else if (additional.ValueKind == JsonValueKind.Object) Validate(additional, p.Value, childPath, problems);
        }
        if (schema.TryGetProperty("minProperties", out var minP) && count < minP.GetInt32())
            problems.Add(new(path, $"must have at least {minP.GetInt32()} entr{(minP.GetInt32() == 1 ? "y" : "ies")}"));
        if (schema.TryGetProperty("maxProperties", out var maxP) && count > maxP.GetInt32())
            problems.Add(new(path, $"must have at most {maxP.GetInt32()} entries (got {count})"));
    }

    private void ValidateArray(JsonElement schema, JsonElement value, string path, List<ValidationProblem> problems)
    {
        int n = value.GetArrayLength();
        if (schema.TryGetProperty("minItems", out var min) && n < min.GetInt32())
            problems.Add(new(path, $"must have at least {min.GetInt32()} item{(min.GetInt32() == 1 ? "" : "s")} (got {n})"));
        if (schema.TryGetProperty("maxItems", out var max) && n > max.GetInt32())
            problems.Add(new(path, $"must have at most {max.GetInt32()} items (got {n})"));
        if (schema.TryGetProperty("items", out var items))
        {
            int i = 0;
            foreach (var item in value.EnumerateArray()) Validate(items, item, $"{path}[{i++}]", problems);
        }
        if (schema.TryGetProperty("uniqueItems", out var unique) && unique.ValueKind == JsonValueKind.True)
        {
            var list = value.EnumerateArray().ToList();
            for (int i = 0; i < list.Count; i++)
                for (int j = 0; j < i; j++)
                    if (JsonEquals(list[i], list[j])) { problems.Add(new($"{path}[{i}]", $"repeats item {j} ({list[i].GetRawText()})")); break; }
        }
    }

    private void ValidateString(JsonElement schema, string s, string path, List<ValidationProblem> problems)
    {
        // JSON Schema counts code points, not UTF-16 units.
        int length = s.EnumerateRunes().Count();
        if (schema.TryGetProperty("minLength", out var min) && length < min.GetInt32())
            problems.Add(new(path, min.GetInt32() == 1 ? "must not be empty" : $"must have at least {min.GetInt32()} characters (got {length})"));
        if (schema.TryGetProperty("maxLength", out var max) && length > max.GetInt32())
            problems.Add(new(path, $"must have at most {max.GetInt32()} characters (got {length})"));
        if (schema.TryGetProperty("pattern", out var pattern) && !_patterns[pattern.GetString()!].IsMatch(s))
        {
            string desc = schema.TryGetProperty("description", out var d) ? $" ({d.GetString()})" : "";
            problems.Add(new(path, $"'{Truncate(s)}' does not match {pattern.GetString()}{desc}"));
        }
    }

    private static void ValidateNumber(JsonElement schema, double v, string path, List<ValidationProblem> problems)
    {
        if (schema.TryGetProperty("minimum", out var min) && v < min.GetDouble())
            problems.Add(new(path, $"must be >= {Num(min)} (got {Num(v)})"));
        if (schema.TryGetProperty("maximum", out var max) && v > max.GetDouble())
            problems.Add(new(path, $"must be <= {Num(max)} (got {Num(v)})"));
        if (schema.TryGetProperty("exclusiveMinimum", out var xmin) && v <= xmin.GetDouble())
            problems.Add(new(path, $"must be > {Num(xmin)} (got {Num(v)})"));
        if (schema.TryGetProperty("exclusiveMaximum", out var xmax) && v >= xmax.GetDouble())
            problems.Add(new(path, $"must be < {Num(xmax)} (got {Num(v)})"));
    }

    private static bool MatchesType(JsonElement type, JsonElement value) =>
        type.ValueKind == JsonValueKind.Array
            ? type.EnumerateArray().Any(t => MatchesType(t.GetString()!, value))
            : MatchesType(type.GetString()!, value);

    private static bool MatchesType(string type, JsonElement value) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        "number" => value.ValueKind == JsonValueKind.Number,
        // JSON Schema: an integer is a number with a zero fractional part (1.0 is an integer).
        "integer" => value.ValueKind == JsonValueKind.Number && (value.TryGetInt64(out _)
                     || (value.TryGetDecimal(out var d) && d == decimal.Truncate(d))),
        _ => throw new FormatException($"unknown JSON Schema type '{type}'"),
    };

    private static string DescribeType(JsonElement type) =>
        type.ValueKind == JsonValueKind.Array
            ? string.Join(" or ", type.EnumerateArray().Select(t => Article(t.GetString()!)))
            : Article(type.GetString()!);

    private static string Article(string type) => type switch
    {
        "object" or "array" or "integer" => "an " + type,
        "null" => "null",
        _ => "a " + type,
    };

    private static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string \"{Truncate(v.GetString()!)}\"",
        JsonValueKind.Number => v.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => "null",
    };

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..77] + "...";

    private static string Num(JsonElement e) => e.GetRawText();
    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>JSONPath of a child: $.name for identifier-like names, else $['name'].</summary>
    public static string Child(string path, string name) =>
        name.Length > 0 && (char.IsLetter(name[0]) || name[0] == '_') && name.All(ch => char.IsLetterOrDigit(ch) || ch == '_')
            ? $"{path}.{name}"
            : $"{path}['{name.Replace("\\", "\\\\").Replace("'", "\\'")}']";

    /// <summary>Structural equality of JSON values (numbers by value).</summary>
    public static bool JsonEquals(JsonElement a, JsonElement b)
    {
        if (a.ValueKind == JsonValueKind.Number && b.ValueKind == JsonValueKind.Number)
            return a.TryGetDecimal(out var x) && b.TryGetDecimal(out var y) ? x == y : a.GetDouble() == b.GetDouble();
        if (a.ValueKind != b.ValueKind) return false;
        switch (a.ValueKind)
        {
            case JsonValueKind.String: return a.GetString() == b.GetString();
            case JsonValueKind.Array:
                return a.GetArrayLength() == b.GetArrayLength() && a.EnumerateArray().Zip(b.EnumerateArray()).All(p => JsonEquals(p.First, p.Second));
            case JsonValueKind.Object:
                var pa = a.EnumerateObject().ToList();
                if (pa.Count != b.EnumerateObject().Count()) return false;
                return pa.All(p => b.TryGetProperty(p.Name, out var q) && JsonEquals(p.Value, q));
            default: return true;
        }
    }
}
