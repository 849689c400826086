using System.Buffers;
using System.Text.Json;

namespace Pipeline.Core.Contracts;

/// <summary>
/// Reads a <see cref="DatasetIndex"/> document from a stream without holding the document: the JSON is parsed as it
/// arrives, a buffer of one file or finding entry at a time (64 KB unless an entry is larger), and the files and findings
/// go straight into their compact lists (<see cref="DatasetFileList"/>, <see cref="DatasetFindingList"/>). So reading the
/// index of a large dataset costs the compact lists, not the document's bytes plus a record per entry. Same conventions
/// and result as <see cref="PipelineJson.Deserialize{T}(ReadOnlySpan{byte}, string)"/> of a <see cref="DatasetIndex"/>
/// (property names case-insensitive, comments and trailing commas allowed, unknown properties ignored, the required
/// ones checked).
/// </summary>
public static class DatasetIndexReader
{
    private enum Phase { Start, Properties, Files, Findings, Done }

    /// <summary>What has been read so far, between two refills of the buffer.</summary>
    private sealed class Builder
    {
        public Phase Phase;
        public int SchemaVersion = 1;
        public string? Dataset, ValidatedWith, AnnotationFormat;
        public int? FileCount;
        public long? TotalBytes;
        public DatasetFileList? Files;
        public DatasetFindingList? Findings;
        public IReadOnlyList<string> Problems = [];
    }

    public static async Task<DatasetIndex> ReadAsync(Stream stream, string what, CancellationToken cancellationToken = default)
    {
        var builder = new Builder();
        var state = new JsonReaderState(new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            int filled = 0;
            bool final = false;
            while (builder.Phase != Phase.Done)
            {
                if (!final)
                {
                    int n = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                    if (n == 0) final = true;
                    filled += n;
                }
                int consumed;
                try { consumed = Step(buffer.AsSpan(0, filled), final, ref state, builder); }
                catch (JsonException e) { throw new JsonException($"{what}: {e.Message}", e.Path, e.LineNumber, e.BytePositionInLine, e); }
                if (builder.Phase == Phase.Done) break;
                if (final && (consumed == 0 || consumed == filled))
                    throw new JsonException($"{what}: the document ends before the index does");
                Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
                filled -= consumed;
                if (filled == buffer.Length)
                {
                    // one entry larger than the buffer: a larger buffer
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    Buffer.BlockCopy(buffer, 0, larger, 0, filled);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return new DatasetIndex
        {
            SchemaVersion = builder.SchemaVersion,
            Dataset = builder.Dataset ?? throw Missing(what, "dataset"),
            FileCount = builder.FileCount ?? throw Missing(what, "fileCount"),
            TotalBytes = builder.TotalBytes ?? throw Missing(what, "totalBytes"),
            Files = builder.Files ?? throw Missing(what, "files"),
            Problems = builder.Problems,
            ValidatedWith = builder.ValidatedWith,
            AnnotationFormat = builder.AnnotationFormat,
            Findings = builder.Findings,
        };
    }

    private static JsonException Missing(string what, string property) =>
        new($"{what}: the index has no '{property}' (required)");

    /// <summary>
    /// Parses as far as whole values go in <paramref name="data"/>; returns the bytes consumed. The reader only moves
    /// past a value once the whole value is in the buffer (checked on a copy), so what is left is re-read after the refill.
    /// </summary>
    private static int Step(ReadOnlySpan<byte> data, bool final, ref JsonReaderState state, Builder b)
    {
        var reader = new Utf8JsonReader(data, final, state);
        var options = PipelineJson.Options;
        while (b.Phase != Phase.Done)
        {
            var ahead = reader;
            if (!ahead.Read()) break;
            switch (b.Phase)
            {
                case Phase.Start:
                    if (ahead.TokenType != JsonTokenType.StartObject) throw new JsonException($"expected the index object, found {ahead.TokenType}");
                    b.Phase = Phase.Properties;
                    break;
                case Phase.Properties:
                    if (ahead.TokenType == JsonTokenType.EndObject) { b.Phase = Phase.Done; break; }
                    string name = ahead.GetString()!;
                    if (!ahead.Read()) return Commit(ref reader, ref state);
                    if (name.Equals("files", StringComparison.OrdinalIgnoreCase) || name.Equals("findings", StringComparison.OrdinalIgnoreCase))
                    {
                        bool files = name.Equals("files", StringComparison.OrdinalIgnoreCase);
                        if (ahead.TokenType == JsonTokenType.Null && !files) { b.Findings = null; break; }
                        if (ahead.TokenType != JsonTokenType.StartArray) throw new JsonException($"'{name}' must be an array, found {ahead.TokenType}");
                        if (files) b.Files = new DatasetFileList(b.FileCount ?? 0);
                        else b.Findings = new DatasetFindingList();
                        b.Phase = files ? Phase.Files : Phase.Findings;
                        break;
                    }
                    var value = ahead;
                    if (!ahead.TrySkip()) return Commit(ref reader, ref state);
                    ReadProperty(name, ref value, options, b);
                    break;
                default:
                    if (ahead.TokenType == JsonTokenType.EndArray) { b.Phase = Phase.Properties; break; }
                    var entry = ahead;
                    if (!ahead.TrySkip()) return Commit(ref reader, ref state);
                    if (b.Phase == Phase.Files)
                        b.Files!.Add(JsonSerializer.Deserialize<DatasetFile>(ref entry, options) ?? throw new JsonException("a file entry is null"));
                    else
                        b.Findings!.Add(JsonSerializer.Deserialize<DatasetFinding>(ref entry, options) ?? throw new JsonException("a finding entry is null"));
                    break;
            }
            reader = ahead;
        }
        return Commit(ref reader, ref state);
    }

    private static int Commit(ref Utf8JsonReader reader, ref JsonReaderState state)
    {
        state = reader.CurrentState;
        return (int)reader.BytesConsumed;
    }

    private static void ReadProperty(string name, ref Utf8JsonReader value, JsonSerializerOptions options, Builder b)
    {
        switch (name.ToLowerInvariant())
        {
            case "schemaversion": b.SchemaVersion = JsonSerializer.Deserialize<int>(ref value, options); break;
            case "dataset": b.Dataset = JsonSerializer.Deserialize<string>(ref value, options); break;
            case "filecount": b.FileCount = JsonSerializer.Deserialize<int>(ref value, options); break;
            case "totalbytes": b.TotalBytes = JsonSerializer.Deserialize<long>(ref value, options); break;
            case "problems": b.Problems = JsonSerializer.Deserialize<List<string>>(ref value, options) ?? []; break;
            case "validatedwith": b.ValidatedWith = JsonSerializer.Deserialize<string>(ref value, options); break;
            case "annotationformat": b.AnnotationFormat = JsonSerializer.Deserialize<string>(ref value, options); break;
        }
    }
}
