using System.Text;
using System.Text.RegularExpressions;

namespace Pipeline.Host.Tests.Bicep;

/// <summary>
/// Just enough of a Bicep reader to catch the usual breakages without the Bicep compiler (absent here): the
/// declarations (param, var, resource, module, output, loop and lambda variables), the identifiers every expression
/// uses, member chains like <c>module.outputs.name</c>, module paths and the keys of each module's params block.
/// It relies on the formatting Bicep's own formatter produces (one object property per line).
/// </summary>
internal sealed partial class BicepFile
{
    public required string Path { get; init; }
    public Dictionary<string, Param> Params { get; } = [];
    public HashSet<string> Vars { get; } = [];
    public Dictionary<string, Resource> Resources { get; } = [];
    public Dictionary<string, Module> Modules { get; } = [];
    public HashSet<string> Outputs { get; } = [];
    public HashSet<string> LocalNames { get; } = [];
    public HashSet<string> Funcs { get; } = [];
    /// <summary>Identifiers used as values (not property keys, not after a dot), with their line.</summary>
    public List<(string Name, int Line)> References { get; } = [];
    /// <summary>Identifiers called as functions (not after a dot).</summary>
    public List<(string Name, int Line)> Calls { get; } = [];
    /// <summary>a.b.c chains starting at an identifier.</summary>
    public List<(string[] Chain, int Line)> MemberChains { get; } = [];
    /// <summary>For .bicepparam files: the file named by "using" and the params assigned.</summary>
    public string? Using { get; private set; }
    public Dictionary<string, int> Assigned { get; } = [];

    public sealed record Param(string Name, string Type, bool HasDefault, int Line);
    public sealed record Resource(string Name, string Type, string? ApiVersion, bool Existing, int Line);
    public sealed record Module(string Name, string RelativePath, Dictionary<string, int> ParamKeys, int Line);

    private enum TokenKind { Identifier, Symbol, String, Number, NewLine }

    private sealed record Token(TokenKind Kind, string Text, int Line)
    {
        /// <summary>For strings: the expressions of ${...} interpolations, tokenized.</summary>
        public List<Token>? Interpolations { get; init; }
    }

    public static BicepFile Load(string path) => Parse(path, File.ReadAllText(path));

    public static BicepFile Parse(string path, string text)
    {
        var file = new BicepFile { Path = path };
        List<Token> tokens = Tokenize(text, 1);
        file.ReadDeclarations(tokens);
        file.ReadUses(tokens);
        return file;
    }

    // ---------------------------------------------------------------- tokenizer

    private static List<Token> Tokenize(string s, int firstLine)
    {
        var tokens = new List<Token>();
        int line = firstLine;
        int i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (c == '\n') { tokens.Add(new Token(TokenKind.NewLine, "\n", line)); line++; i++; continue; }
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c == '/' && i + 1 < s.Length && s[i + 1] == '/') { while (i < s.Length && s[i] != '\n') i++; continue; }
            if (c == '/' && i + 1 < s.Length && s[i + 1] == '*')
            {
                int end = s.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (end < 0) throw new FormatException($"unterminated comment at line {line}");
                line += s.AsSpan(i, end - i).Count('\n');
                i = end + 2;
                continue;
            }
            if (c == '\'')
            {
                if (s.AsSpan(i).StartsWith("'''"))
                {
                    int end = s.IndexOf("'''", i + 3, StringComparison.Ordinal);
                    if (end < 0) throw new FormatException($"unterminated multi-line string at line {line}");
                    tokens.Add(new Token(TokenKind.String, s[(i + 3)..end], line));
                    line += s.AsSpan(i, end - i).Count('\n');
                    i = end + 3;
                    continue;
                }
                var text = new StringBuilder();
                var interpolations = new List<Token>();
                int startLine = line;
                i++;
                while (true)
                {
                    if (i >= s.Length || s[i] == '\n') throw new FormatException($"unterminated string at line {startLine}");
                    if (s[i] == '\\' && i + 1 < s.Length) { text.Append(s[i + 1]); i += 2; continue; }
                    if (s[i] == '\'') { i++; break; }
                    if (s[i] == '$' && i + 1 < s.Length && s[i + 1] == '{')
                    {
                        int depth = 1, j = i + 2;
                        while (j < s.Length && depth > 0)
                        {
                            if (s[j] == '{') depth++;
                            else if (s[j] == '}') depth--;
                            else if (s[j] == '\'')
                            {
                                j++;
                                while (j < s.Length && s[j] != '\'') j++;
                            }
                            if (depth > 0) j++;
                        }
                        interpolations.AddRange(Tokenize(s[(i + 2)..j], line));
                        interpolations.Add(new Token(TokenKind.NewLine, "\n", line));
                        text.Append("${}");
                        i = j + 1;
                        continue;
                    }
                    text.Append(s[i]);
                    i++;
                }
                tokens.Add(new Token(TokenKind.String, text.ToString(), startLine) { Interpolations = interpolations });
                continue;
            }
            if (char.IsLetter(c) || c == '_')
            {
                int j = i;
                while (j < s.Length && (char.IsLetterOrDigit(s[j]) || s[j] == '_')) j++;
                tokens.Add(new Token(TokenKind.Identifier, s[i..j], line));
                i = j;
                continue;
            }
            if (char.IsDigit(c))
            {
                int j = i;
                while (j < s.Length && (char.IsDigit(s[j]) || s[j] == '.')) j++;
                tokens.Add(new Token(TokenKind.Number, s[i..j], line));
                i = j;
                continue;
            }
            if (i + 1 < s.Length && (s.AsSpan(i, 2) is "=>" or "==" or "!=" or ">=" or "<=" or "&&" or "||" or "??" or ".?" or "?."))
            {
                tokens.Add(new Token(TokenKind.Symbol, s.Substring(i, 2), line));
                i += 2;
                continue;
            }
            tokens.Add(new Token(TokenKind.Symbol, c.ToString(), line));
            i++;
        }
        return tokens;
    }

    // ---------------------------------------------------------------- declarations

    private static bool LineStart(List<Token> t, int i) => i == 0 || t[i - 1].Kind == TokenKind.NewLine;

    private void ReadDeclarations(List<Token> t)
    {
        for (int i = 0; i < t.Count; i++)
        {
            var tok = t[i];
            if (tok.Kind == TokenKind.Identifier && LineStart(t, i) && i + 1 < t.Count && t[i + 1].Kind == TokenKind.Identifier)
            {
                string name = t[i + 1].Text;
                switch (tok.Text)
                {
                    case "param" when Path.EndsWith(".bicepparam", StringComparison.Ordinal):
                        Assigned[name] = tok.Line;
                        break;
                    case "param":
                    {
                        string type = i + 2 < t.Count ? t[i + 2].Text : "";
                        bool hasDefault = false;
                        for (int j = i + 2; j < t.Count && t[j].Kind != TokenKind.NewLine; j++)
                            if (t[j].Text == "=") { hasDefault = true; break; }
                        Params[name] = new Param(name, type, hasDefault || type.EndsWith('?'), tok.Line);
                        break;
                    }
                    case "var":
                        Vars.Add(name);
                        break;
                    case "output":
                        Outputs.Add(name);
                        break;
                    case "func":
                        Funcs.Add(name);
                        break;
                    case "resource" when i + 2 < t.Count && t[i + 2].Kind == TokenKind.String:
                    {
                        string spec = t[i + 2].Text;
                        int at = spec.IndexOf('@');
                        bool existing = i + 3 < t.Count && t[i + 3].Text == "existing";
                        Resources[name] = new Resource(name, at < 0 ? spec : spec[..at], at < 0 ? null : spec[(at + 1)..], existing, tok.Line);
                        break;
                    }
                    case "module" when i + 2 < t.Count && t[i + 2].Kind == TokenKind.String:
                        Modules[name] = new Module(name, t[i + 2].Text, ReadModuleParams(t, i + 3), tok.Line);
                        break;
                }
            }
            if (tok.Kind == TokenKind.Identifier && tok.Text == "using" && LineStart(t, i) && i + 1 < t.Count && t[i + 1].Kind == TokenKind.String)
                Using = t[i + 1].Text;
            // loop variables: for x in / for (x, i) in
            if (tok.Text == "for" && i > 0 && t[i - 1].Text == "[")
            {
                for (int j = i + 1; j < t.Count && t[j].Text != "in"; j++)
                    if (t[j].Kind == TokenKind.Identifier) LocalNames.Add(t[j].Text);
            }
            // lambda parameters: x => ... / (x, y) => ...
            if (tok.Text == "=>")
            {
                if (i > 0 && t[i - 1].Kind == TokenKind.Identifier) LocalNames.Add(t[i - 1].Text);
                else if (i > 0 && t[i - 1].Text == ")")
                    for (int j = i - 2; j >= 0 && t[j].Text != "("; j--)
                        if (t[j].Kind == TokenKind.Identifier) LocalNames.Add(t[j].Text);
            }
        }
    }

    /// <summary>The keys of the "params: { ... }" block of the module body that starts after index <paramref name="from"/>.</summary>
    private static Dictionary<string, int> ReadModuleParams(List<Token> t, int from)
    {
        var keys = new Dictionary<string, int>();
        int bodyStart = -1;
        for (int j = from; j < t.Count; j++)
            if (t[j].Text == "{") { bodyStart = j; break; }
        if (bodyStart < 0) return keys;
        int depth = 0;
        for (int j = bodyStart; j < t.Count; j++)
        {
            if (t[j].Text is "{" or "[" or "(") depth++;
            else if (t[j].Text is "}" or "]" or ")") { depth--; if (depth == 0) break; }
            else if (depth == 1 && t[j].Text == "params" && LineStart(t, j) && j + 2 < t.Count && t[j + 1].Text == ":" && t[j + 2].Text == "{")
            {
                int d = 0;
                for (int k = j + 2; k < t.Count; k++)
                {
                    if (t[k].Text is "{" or "[" or "(") d++;
                    else if (t[k].Text is "}" or "]" or ")") { d--; if (d == 0) break; }
                    else if (d == 1 && t[k].Kind is TokenKind.Identifier or TokenKind.String && LineStart(t, k) && k + 1 < t.Count && t[k + 1].Text == ":")
                        keys[t[k].Text] = t[k].Line;
                }
                break;
            }
        }
        return keys;
    }

    // ---------------------------------------------------------------- uses

    private static readonly HashSet<string> Keywords =
    [
        "param", "var", "resource", "module", "output", "existing", "if", "for", "in", "true", "false", "null",
        "targetScope", "using", "func", "type", "metadata", "import", "with", "as", "extension",
    ];

    private static readonly HashSet<string> TypeNames = ["string", "int", "bool", "object", "array", "any"];

    private void ReadUses(List<Token> tokens)
    {
        var all = new List<Token>();
        foreach (var tok in tokens)
        {
            all.Add(tok);
            if (tok.Interpolations is { Count: > 0 } inner)
            {
                all.Add(new Token(TokenKind.NewLine, "\n", tok.Line));
                all.AddRange(inner);
            }
        }
        for (int i = 0; i < all.Count; i++)
        {
            var tok = all[i];
            if (tok.Kind != TokenKind.Identifier || Keywords.Contains(tok.Text)) continue;
            Token? prev = i > 0 ? all[i - 1] : null;
            Token? next = i + 1 < all.Count ? all[i + 1] : null;
            if (prev is { Text: "." or ".?" or "?." }) continue;                              // member access
            if (LineStart(all, i) && next is { Text: ":" }) continue;                        // object property key
            if (prev is { Kind: TokenKind.Identifier } p && Keywords.Contains(p.Text) && p.Text is not ("if" or "in")) continue; // declared name
            if (prev is { Text: "@" }) { Calls.Add((tok.Text, tok.Line)); continue; }        // decorator
            if (TypeNames.Contains(tok.Text) && prev is { Kind: TokenKind.Identifier }) continue; // param/output type
            if (next is { Text: "=>" } || (next is { Text: "," or ")" } && IsLambdaParams(all, i))) continue;
            if (next is { Text: "(" }) { Calls.Add((tok.Text, tok.Line)); continue; }
            References.Add((tok.Text, tok.Line));
            var chain = new List<string> { tok.Text };
            for (int j = i + 1; j + 1 < all.Count && all[j].Text is "." or ".?" && all[j + 1].Kind == TokenKind.Identifier; j += 2)
                chain.Add(all[j + 1].Text);
            if (chain.Count > 1) MemberChains.Add((chain.ToArray(), tok.Line));
        }
    }

    private static bool IsLambdaParams(List<Token> t, int i)
    {
        int j = i;
        while (j < t.Count && t[j].Text != ")") j++;
        return j + 1 < t.Count && t[j + 1].Text == "=>";
    }

    // ---------------------------------------------------------------- checks

    /// <summary>Bicep's built-in functions that the templates may call (https://learn.microsoft.com/azure/azure-resource-manager/bicep/bicep-functions).</summary>
    public static readonly HashSet<string> BuiltInFunctions =
    [
        "any", "concat", "contains", "empty", "first", "last", "length", "union", "intersection", "items", "range",
        "skip", "take", "min", "max", "flatten", "filter", "map", "reduce", "sort", "toObject", "json", "string", "int",
        "bool", "array", "toLower", "toUpper", "trim", "replace", "split", "join", "substring", "startsWith", "endsWith",
        "indexOf", "lastIndexOf", "format", "guid", "newGuid", "uniqueString", "base64", "base64ToString", "uri",
        "uriComponent", "dataUri", "resourceGroup", "subscription", "tenant", "managementGroup", "environment",
        "deployment", "resourceId", "subscriptionResourceId", "tenantResourceId", "extensionResourceId", "reference",
        "listKeys", "utcNow", "dateTimeAdd", "loadTextContent", "loadJsonContent", "loadFileAsBase64", "tryGet",
        "description", "minLength", "maxLength", "minValue", "maxValue", "allowed", "secure", "metadata", "sys",
        "batchSize", "export", "sealed", "discriminator", "readEnvironmentVariable", "coalesce", "objectKeys",
    ];

    /// <summary>Every problem found in this file on its own (a reference to nothing, a resource without API version,
    /// an unused parameter or variable).</summary>
    public IEnumerable<string> LocalProblems()
    {
        var declared = new HashSet<string>(Params.Keys);
        declared.UnionWith(Vars);
        declared.UnionWith(Resources.Keys);
        declared.UnionWith(Modules.Keys);
        declared.UnionWith(LocalNames);
        foreach (var (name, line) in References)
            if (!declared.Contains(name))
                yield return $"{Path}:{line}: '{name}' is not a declared param, var, resource, module or loop variable";
        foreach (var (name, line) in Calls)
            if (!BuiltInFunctions.Contains(name) && !Funcs.Contains(name))
                yield return $"{Path}:{line}: '{name}(...)' is not a Bicep function";
        foreach (var r in Resources.Values)
            if (r.ApiVersion is null || !ApiVersionPattern().IsMatch(r.ApiVersion))
                yield return $"{Path}:{r.Line}: resource '{r.Name}' ({r.Type}) has no valid API version ('Type@yyyy-mm-dd[-preview]')";
        var used = References.Select(r => r.Name).ToHashSet();
        foreach (var p in Params.Values)
            if (!used.Contains(p.Name))
                yield return $"{Path}:{p.Line}: param '{p.Name}' is never used";
        foreach (var v in Vars)
            if (!used.Contains(v))
                yield return $"{Path}: var '{v}' is never used";
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}(-preview|-beta|-alpha)?$")]
    private static partial Regex ApiVersionPattern();
}
