using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Pipeline.Core.Contracts;

/// <summary>
/// The one set of JSON conventions every document and message of the pipeline uses: camelCase names, enums as
/// camelCase strings, nulls omitted, indented (documents are small and read by people). Use these options for every
/// (de)serialisation of a contract so that the committed JSON schemas under schemas/ describe what is written.
/// </summary>
public static class PipelineJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DictionaryKeyPolicy = null, // dictionary keys are data (class names, metric names): kept as written
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            WriteIndented = true,
            NumberHandling = JsonNumberHandling.Strict,
            ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        o.MakeReadOnly();
        return o;
    }

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static byte[] SerializeToUtf8Bytes<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    /// <summary>Deserialises <paramref name="json"/>; a null document or a type mismatch throws a
    /// <see cref="JsonException"/> naming <paramref name="what"/> and the JSON path.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> json, string what)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options)
                   ?? throw new JsonException($"{what}: the document is JSON null, expected a {typeof(T).Name}.");
        }
        catch (JsonException e) when (!e.Message.StartsWith(what, StringComparison.Ordinal))
        {
            throw new JsonException($"{what}: {e.Message}", e.Path, e.LineNumber, e.BytePositionInLine, e);
        }
    }

    public static T Deserialize<T>(string json, string what) => Deserialize<T>(System.Text.Encoding.UTF8.GetBytes(json), what);
}

/// <summary>String enum converter with camelCase names, usable as a type attribute so that an enum reads and writes
/// the same with or without <see cref="PipelineJson.Options"/>.</summary>
public sealed class CamelCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.CamelCase, allowIntegerValues: false)
    where TEnum : struct, Enum;
