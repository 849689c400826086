using System.Buffers;
using System.Text.Json;

namespace Pipeline.Host.Engine;

/// <summary>What a checkpoint answers.</summary>
public enum CheckpointKind
{
    Activity,
    SubOrchestration,
    Timer,
    Event,
}

/// <summary>
/// One line of an instance's checkpoint log: the outcome of call number <see cref="Sequence"/> (calls are numbered in
/// the order the orchestrator makes them), in the order the outcomes were delivered to the orchestrator.
/// <see cref="Name"/> and <see cref="Fingerprint"/> (a hash of the input, the child id, or the timer's due time)
/// let replay check that the orchestrator makes the same call again.
/// </summary>
public sealed class CheckpointRecord
{
    public required int Sequence { get; init; }
    public required CheckpointKind Kind { get; init; }
    public required string Name { get; init; }
    public required string Fingerprint { get; init; }
    /// <summary>UTC ticks when the outcome was delivered: the replay-safe time from then on.</summary>
    public required long TimestampTicks { get; init; }
    public bool Failed { get; init; }
    /// <summary>Result (activity, child output) or event payload, as JSON text.</summary>
    public string? ResultJson { get; init; }
    public string? ErrorType { get; init; }
    public string? ErrorMessage { get; init; }
    public int Attempts { get; init; }
    /// <summary>The consumed external event (Event only).</summary>
    public string? EventId { get; init; }
    /// <summary>An event wait that ended by its timeout.</summary>
    public bool TimedOut { get; init; }

    public string Describe() => $"{KindName(Kind)} '{Name}' ({Fingerprint})";

    public static string KindName(CheckpointKind kind) => kind switch
    {
        CheckpointKind.Activity => "activity",
        CheckpointKind.SubOrchestration => "sub-orchestration",
        CheckpointKind.Timer => "timer",
        _ => "external event",
    };

    private static readonly JsonEncodedText S = JsonEncodedText.Encode("s"), K = JsonEncodedText.Encode("k"),
        N = JsonEncodedText.Encode("n"), F = JsonEncodedText.Encode("f"), T = JsonEncodedText.Encode("t"),
        X = JsonEncodedText.Encode("x"), R = JsonEncodedText.Encode("r"), ET = JsonEncodedText.Encode("et"),
        EM = JsonEncodedText.Encode("em"), A = JsonEncodedText.Encode("a"), EV = JsonEncodedText.Encode("ev"),
        TO = JsonEncodedText.Encode("to");

    /// <summary>Writes the record as one JSON line (compact property names; the result is embedded as raw JSON).</summary>
    public void WriteLine(IBufferWriter<byte> output, Utf8JsonWriter writer)
    {
        writer.Reset(output);
        writer.WriteStartObject();
        writer.WriteNumber(S, Sequence);
        writer.WriteNumber(K, (int)Kind);
        writer.WriteString(N, Name);
        writer.WriteString(F, Fingerprint);
        writer.WriteNumber(T, TimestampTicks);
        if (Failed) writer.WriteBoolean(X, true);
        if (ResultJson is not null) { writer.WritePropertyName(R); writer.WriteRawValue(ResultJson, skipInputValidation: true); }
        if (ErrorType is not null) writer.WriteString(ET, ErrorType);
        if (ErrorMessage is not null) writer.WriteString(EM, ErrorMessage);
        if (Attempts != 0) writer.WriteNumber(A, Attempts);
        if (EventId is not null) writer.WriteString(EV, EventId);
        if (TimedOut) writer.WriteBoolean(TO, true);
        writer.WriteEndObject();
        writer.Flush();
        output.Write("\n"u8);
    }

    /// <summary>Parses one line written by <see cref="WriteLine"/>; throws <see cref="InvalidDataException"/> naming the problem.</summary>
    public static CheckpointRecord Parse(ReadOnlySpan<byte> line, string where)
    {
        try
        {
            using var doc = JsonDocument.Parse(line.ToArray());
            var root = doc.RootElement;
            string? Str(string p) => root.TryGetProperty(p, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            int kind = root.GetProperty("k").GetInt32();
            if (kind is < 0 or > 3) throw new InvalidDataException($"{where}: unknown record kind {kind}.");
            return new CheckpointRecord
            {
                Sequence = root.GetProperty("s").GetInt32(),
                Kind = (CheckpointKind)kind,
                Name = Str("n") ?? throw new InvalidDataException($"{where}: record without a name."),
                Fingerprint = Str("f") ?? "",
                TimestampTicks = root.GetProperty("t").GetInt64(),
                Failed = root.TryGetProperty("x", out var x) && x.ValueKind == JsonValueKind.True,
                ResultJson = root.TryGetProperty("r", out var r) ? r.GetRawText() : null,
                ErrorType = Str("et"),
                ErrorMessage = Str("em"),
                Attempts = root.TryGetProperty("a", out var a) ? a.GetInt32() : 0,
                EventId = Str("ev"),
                TimedOut = root.TryGetProperty("to", out var to) && to.ValueKind == JsonValueKind.True,
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"{where}: not a checkpoint record ({e.Message}).", e);
        }
    }
}
