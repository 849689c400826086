using System.Text.Json;
using DurableTask.Core.Serializing;
using Pipeline.Core.Orchestration;

namespace Pipeline.Host.TaskHub;

/// <summary>JSON text made by System.Text.Json with <see cref="OrchestrationJson.Options"/>, carried through the
/// framework unchanged (its own converter is Newtonsoft with type names).</summary>
public sealed record RawJson(string Text)
{
    public static RawJson From(object? value) => new(JsonSerializer.Serialize(value, OrchestrationJson.Options));

    public T Read<T>() => JsonSerializer.Deserialize<T>(Text, OrchestrationJson.Options)!;

    public JsonElement ToElement()
    {
        using var doc = JsonDocument.Parse(Text);
        return doc.RootElement.Clone();
    }
}

/// <summary>
/// The framework's data converter for the port's payloads: a <see cref="RawJson"/> (alone, or as the single parameter
/// of an activity call) is written as its text, and read back as a <see cref="RawJson"/>, so inputs, outputs and
/// events in the task hub are the same plain JSON the Functions host stores. Anything else falls back to the
/// framework's converter.
/// </summary>
public sealed class PortJsonDataConverter : JsonDataConverter
{
    public static new PortJsonDataConverter Default { get; } = new();

    public override string Serialize(object value, bool formatted) => value switch
    {
        RawJson raw => raw.Text,
        object[] { Length: 1 } parameters when parameters[0] is RawJson raw => raw.Text,
        _ => base.Serialize(value, formatted),
    };

    public override object Deserialize(string data, Type objectType) =>
        objectType == typeof(RawJson) ? new RawJson(data ?? "null") : base.Deserialize(data, objectType);
}
