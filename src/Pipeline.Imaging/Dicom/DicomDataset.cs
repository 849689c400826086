using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Pipeline.Imaging.Dicom;

/// <summary>
/// A data set: elements ordered by tag (PS3.5 section 7.1). Typed getters decode values by their VR and throw a
/// <see cref="DicomException"/> naming the tag when a value cannot be parsed; setters encode and pad to even length.
/// </summary>
public sealed class DicomDataset
{
    private readonly SortedDictionary<DicomTag, DicomElement> _elements = new();

    /// <summary>The character set used for string values (ISO_IR 100 Latin-1 by default, UTF-8 for ISO_IR 192).</summary>
    public Encoding TextEncoding { get; set; } = Encoding.Latin1;

    /// <summary>Name of the file or blob, for error messages.</summary>
    public string SourceName { get; set; } = "dataset";

    public IEnumerable<DicomElement> Elements => _elements.Values;
    public int Count => _elements.Count;

    public bool Contains(DicomTag tag) => _elements.ContainsKey(tag);

    public DicomElement? this[DicomTag tag] => _elements.GetValueOrDefault(tag);

    public void Add(DicomElement element) => _elements[element.Tag] = element;

    public bool Remove(DicomTag tag) => _elements.Remove(tag);

    /// <summary>Removes every element matching <paramref name="predicate"/>; returns how many.</summary>
    public int RemoveWhere(Func<DicomTag, bool> predicate)
    {
        var doomed = _elements.Keys.Where(predicate).ToList();
        foreach (var t in doomed) _elements.Remove(t);
        return doomed.Count;
    }

    /// <summary>A deep copy (element bytes are immutable memory and shared).</summary>
    public DicomDataset Clone()
    {
        var copy = new DicomDataset { TextEncoding = TextEncoding, SourceName = SourceName };
        foreach (var e in _elements.Values)
        {
            if (e.Items != null) copy.Add(new DicomElement(e.Tag, e.Items.Select(i => i.Clone())));
            else if (e.Fragments != null) copy.Add(DicomElement.Encapsulated(e.Tag, e.Fragments));
            else copy.Add(new DicomElement(e.Tag, e.VR, e.Data));
        }
        return copy;
    }

    // ---- getters ----

    /// <summary>The whole string value (all values joined by backslash), trailing padding removed; null when absent or empty.</summary>
    public string? GetString(DicomTag tag)
    {
        var e = this[tag];
        if (e == null || e.Items != null || e.Fragments != null) return null;
        var s = TextEncoding.GetString(e.Data.Span).TrimEnd(' ', '\0');
        if (!DicomVRInfo.IsSingleValuedText(e.VR)) s = s.TrimStart(' ');
        return s.Length == 0 ? null : s;
    }

    /// <summary>The values of a multi-valued string (split on backslash, each trimmed); empty when absent.</summary>
    public string[] GetStrings(DicomTag tag)
    {
        var s = GetString(tag);
        if (s == null) return [];
        var e = this[tag]!;
        if (DicomVRInfo.IsSingleValuedText(e.VR)) return [s];
        return s.Split('\\').Select(v => v.Trim(' ', '\0')).ToArray();
    }

    /// <summary>Numeric values of a DS/IS string or a binary numeric element; empty when absent.</summary>
    public double[] GetDoubles(DicomTag tag)
    {
        var e = this[tag];
        if (e == null || e.Items != null || e.Fragments != null || e.Data.IsEmpty) return [];
        var span = e.Data.Span;
        switch (e.VR)
        {
            case DicomVR.US: return Read(span, 2, s => BinaryPrimitives.ReadUInt16LittleEndian(s));
            case DicomVR.SS: return Read(span, 2, s => BinaryPrimitives.ReadInt16LittleEndian(s));
            case DicomVR.UL: return Read(span, 4, s => BinaryPrimitives.ReadUInt32LittleEndian(s));
            case DicomVR.SL: return Read(span, 4, s => BinaryPrimitives.ReadInt32LittleEndian(s));
            case DicomVR.FL: return Read(span, 4, s => BinaryPrimitives.ReadSingleLittleEndian(s));
            case DicomVR.FD: return Read(span, 8, s => BinaryPrimitives.ReadDoubleLittleEndian(s));
            case DicomVR.DS or DicomVR.IS or DicomVR.UN or DicomVR.LO or DicomVR.SH or DicomVR.CS:
                var values = GetStrings(tag);
                var result = new double[values.Length];
                for (int i = 0; i < values.Length; i++)
                {
                    if (!double.TryParse(values[i], NumberStyles.Float, CultureInfo.InvariantCulture, out result[i]) || !double.IsFinite(result[i]))
                        throw new DicomException(SourceName, $"{tag} value {i + 1} '{values[i]}' is not a number");
                }
                return result;
            default:
                throw new DicomException(SourceName, $"{tag} has VR {e.VR}, which holds no numbers");
        }
    }

    private double[] Read(ReadOnlySpan<byte> span, int size, ReadValue read)
    {
        var result = new double[span.Length / size];
        for (int i = 0; i < result.Length; i++) result[i] = read(span.Slice(i * size, size));
        return result;
    }

    private delegate double ReadValue(ReadOnlySpan<byte> s);

    /// <summary>The first numeric value, or null when absent.</summary>
    public double? GetDouble(DicomTag tag)
    {
        var v = GetDoubles(tag);
        return v.Length == 0 ? null : v[0];
    }

    /// <summary>The first value as an integer, or null when absent; throws when it is not integral.</summary>
    public int? GetInt(DicomTag tag)
    {
        var v = GetDouble(tag);
        if (v == null) return null;
        if (v.Value != Math.Floor(v.Value) || v.Value > int.MaxValue || v.Value < int.MinValue)
            throw new DicomException(SourceName, $"{tag} value {v.Value} is not an integer");
        return (int)v.Value;
    }

    /// <summary>The items of a sequence; empty when absent.</summary>
    public IReadOnlyList<DicomDataset> GetSequence(DicomTag tag) => (IReadOnlyList<DicomDataset>?)this[tag]?.Items ?? [];

    /// <summary>Raw little-endian value bytes; empty when absent.</summary>
    public ReadOnlyMemory<byte> GetBytes(DicomTag tag) => this[tag]?.Data ?? ReadOnlyMemory<byte>.Empty;

    // ---- setters ----

    /// <summary>Sets a string element (values joined by backslash), padded to even length as PS3.5 section 6.2 requires.</summary>
    public void SetString(DicomTag tag, DicomVR vr, string value)
    {
        if (!DicomVRInfo.IsString(vr)) throw new ArgumentException($"{tag}: VR {vr} is not a string VR", nameof(vr));
        var bytes = TextEncoding.GetBytes(value);
        if (bytes.Length % 2 == 1)
        {
            Array.Resize(ref bytes, bytes.Length + 1);
            bytes[^1] = vr == DicomVR.UI ? (byte)0 : (byte)' ';
        }
        Add(new DicomElement(tag, vr, bytes));
    }

    public void SetStrings(DicomTag tag, DicomVR vr, params string[] values) => SetString(tag, vr, string.Join('\\', values));

    /// <summary>Sets a DS element; values are written in the shortest round-trip form that fits 16 characters.</summary>
    public void SetDecimals(DicomTag tag, params double[] values) =>
        SetString(tag, DicomVR.DS, string.Join('\\', values.Select(FormatDecimalString)));

    public void SetInts(DicomTag tag, params int[] values) =>
        SetString(tag, DicomVR.IS, string.Join('\\', values.Select(v => v.ToString(CultureInfo.InvariantCulture))));

    public void SetUInt16(DicomTag tag, params ushort[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), values[i]);
        Add(new DicomElement(tag, DicomVR.US, bytes));
    }

    public void SetInt16(DicomTag tag, params short[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(i * 2), values[i]);
        Add(new DicomElement(tag, DicomVR.SS, bytes));
    }

    public void SetBytes(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> data)
    {
        if (data.Length % 2 == 1)
        {
            var padded = new byte[data.Length + 1];
            data.Span.CopyTo(padded);
            data = padded;
        }
        Add(new DicomElement(tag, vr, data));
    }

    public void SetSequence(DicomTag tag, params DicomDataset[] items) => Add(new DicomElement(tag, items));

    /// <summary>A code sequence item (PS3.3 section 8.8).</summary>
    public static DicomDataset CodeItem(string value, string scheme, string meaning)
    {
        var item = new DicomDataset();
        item.SetString(DicomTag.CodeValue, DicomVR.SH, value);
        item.SetString(DicomTag.CodingSchemeDesignator, DicomVR.SH, scheme);
        item.SetString(DicomTag.CodeMeaning, DicomVR.LO, meaning);
        return item;
    }

    /// <summary>Formats a DS value in at most 16 characters (PS3.5 table 6.2-1).</summary>
    public static string FormatDecimalString(double v)
    {
        if (!double.IsFinite(v)) throw new ArgumentOutOfRangeException(nameof(v), v, "DS values must be finite");
        var s = v.ToString("R", CultureInfo.InvariantCulture);
        if (s.Length <= 16) return s;
        for (int digits = 15; digits > 0; digits--)
        {
            s = v.ToString("G" + digits, CultureInfo.InvariantCulture);
            if (s.Length <= 16) return s;
        }
        throw new ArgumentOutOfRangeException(nameof(v), v, "value does not fit a 16-character DS");
    }
}
