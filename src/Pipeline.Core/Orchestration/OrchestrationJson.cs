using System.Text.Json;

namespace Pipeline.Core.Orchestration;

/// <summary>The one JSON setting for orchestration inputs, outputs, events and custom status, shared by both hosts
/// (camelCase web defaults, as Durable Functions' default data converter is configured in functions/).</summary>
public static class OrchestrationJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }
}
