using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Pipeline.Imaging.Dicom;

/// <summary>Limits that keep a hostile or corrupt file from exhausting memory or the stack.</summary>
public sealed class DicomReadOptions
{
    /// <summary>Deepest sequence nesting accepted.</summary>
    public int MaxSequenceDepth { get; set; } = 16;

    /// <summary>Largest inflated size of a Deflated Explicit VR Little Endian data set.</summary>
    public long MaxInflatedBytes { get; set; } = 1L << 30;

    /// <summary>Stop at Pixel Data (header-only read): pixel bytes are not needed for attribute queries.</summary>
    public bool StopBeforePixelData { get; set; }
}

/// <summary>
/// A DICOM Part 10 file: File Meta Information (group 0002, always Explicit VR Little Endian, PS3.10 section 7.1) and the
/// data set in its transfer syntax. This managed reader checks every length against the bytes present before it slices,
/// so a truncated or mutated file yields a <see cref="DicomException"/> naming the offset and tag instead of reaching
/// native code; the GDCM pixel decoder only sees files this reader accepted (see docs/dicom.md, "Defensive decoding").
/// </summary>
public sealed class DicomFile
{
    public DicomFile(DicomDataset fileMetaInformation, DicomDataset dataset, TransferSyntax transferSyntax, string item)
    {
        FileMetaInformation = fileMetaInformation; Dataset = dataset; TransferSyntax = transferSyntax; Item = item;
    }

    public DicomDataset FileMetaInformation { get; }
    public DicomDataset Dataset { get; }
    public TransferSyntax TransferSyntax { get; set; }
    public string Item { get; }

    public static DicomFile Open(string path, DicomReadOptions? options = null) =>
        Read(File.ReadAllBytes(path), path, options);

    /// <summary>Parses a Part 10 file (or a bare data set without preamble, read as PS3.10 section 7.1 permits for legacy files).</summary>
    public static DicomFile Read(ReadOnlyMemory<byte> bytes, string item, DicomReadOptions? options = null)
    {
        options ??= new DicomReadOptions();
        var span = bytes.Span;
        int pos;
        if (span.Length >= 132 && span[128] == 'D' && span[129] == 'I' && span[130] == 'C' && span[131] == 'M') pos = 132;
        else if (span.Length >= 8 && LooksLikeDataSetStart(span)) pos = 0;
        else throw new DicomException(item, span.Length < 132
            ? $"not a DICOM file: only {span.Length} bytes and no 'DICM' prefix at offset 128"
            : "not a DICOM file: no 'DICM' prefix at offset 128 and no recognisable data set at offset 0");

        var meta = new DicomDataset { SourceName = item };
        var metaParser = new Parser(bytes, item, options, explicitVR: true, bigEndian: false) { Position = pos };
        while (metaParser.Position + 4 <= bytes.Length && BinaryPrimitives.ReadUInt16LittleEndian(span[metaParser.Position..]) == 0x0002)
            meta.Add(metaParser.ReadElement(bytes.Length, meta, 0)!);
        pos = metaParser.Position;

        TransferSyntax ts;
        var tsUid = meta.GetString(DicomTag.TransferSyntaxUID);
        if (tsUid != null) ts = TransferSyntax.FromUid(tsUid);
        else if (pos + 6 <= span.Length && DicomVRInfo.TryParse(span[pos + 4], span[pos + 5], out _)) ts = TransferSyntax.ExplicitVRLittleEndian;
        else ts = TransferSyntax.ImplicitVRLittleEndian;
        if (!DicomUid.IsValid(ts.Uid)) throw new DicomException(item, $"Transfer Syntax UID '{ts.Uid}' is not a valid UID");

        var body = bytes;
        if (ts.IsDeflated)
        {
            body = Inflate(bytes[pos..], item, options.MaxInflatedBytes);
            pos = 0;
        }

        var dataset = new DicomDataset { SourceName = item };
        var parser = new Parser(body, item, options, ts.IsExplicitVR, ts.IsBigEndian) { Position = pos };
        parser.ReadDataSet(dataset, body.Length, depth: 0, untilItemDelimiter: false);
        return new DicomFile(meta, dataset, ts, item);
    }

    private static bool LooksLikeDataSetStart(ReadOnlySpan<byte> s)
    {
        ushort group = BinaryPrimitives.ReadUInt16LittleEndian(s);
        return group is 0x0002 or 0x0008 && BinaryPrimitives.ReadUInt16LittleEndian(s[2..]) < 0x0100;
    }

    private static ReadOnlyMemory<byte> Inflate(ReadOnlyMemory<byte> compressed, string item, long max)
    {
        try
        {
            using var input = new MemoryStream(compressed.ToArray());
            using var deflate = new DeflateStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buffer = new byte[81920];
            int n;
            while ((n = deflate.Read(buffer)) > 0)
            {
                output.Write(buffer, 0, n);
                if (output.Length > max) throw new DicomException(item, $"deflated data set inflates past {max} bytes");
            }
            return output.ToArray();
        }
        catch (InvalidDataException ex)
        {
            throw new DicomException(item, "deflated data set is corrupt: " + ex.Message, ex);
        }
    }

    private sealed class Parser(ReadOnlyMemory<byte> bytes, string item, DicomReadOptions options, bool explicitVR, bool bigEndian)
    {
        public int Position { get; set; }
        private bool _stopped;

        private ushort U16(int at) => bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(bytes.Span[at..]) : BinaryPrimitives.ReadUInt16LittleEndian(bytes.Span[at..]);
        private uint U32(int at) => bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(bytes.Span[at..]) : BinaryPrimitives.ReadUInt32LittleEndian(bytes.Span[at..]);

        private void Need(int count, int end, string what)
        {
            if (count < 0 || Position > end - count)
                throw new DicomException(item, $"truncated at byte {Position}: {what} needs {count} bytes, {Math.Max(0, end - Position)} left");
        }

        public void ReadDataSet(DicomDataset target, int end, int depth, bool untilItemDelimiter)
        {
            if (depth > options.MaxSequenceDepth) throw new DicomException(item, $"sequences nested deeper than {options.MaxSequenceDepth} at byte {Position}");
            DicomTag previous = default;
            bool first = true;
            while (Position < end && !_stopped)
            {
                // Trailing padding shorter than an element header is tolerated at the end of the top-level data set.
                if (depth == 0 && end - Position < 8 && bytes.Span[Position..end].IndexOfAnyExcept((byte)0) < 0) { Position = end; break; }
                int start = Position;
                Need(4, end, "a tag");
                var tag = new DicomTag(U16(Position), U16(Position + 2));
                if (tag == DicomTag.ItemDelimitationItem)
                {
                    if (!untilItemDelimiter) throw new DicomException(item, $"unexpected Item Delimitation Item at byte {start}");
                    Position += 4; Need(4, end, "the Item Delimitation length"); Position += 4;
                    return;
                }
                if (tag.Group == 0xFFFE) throw new DicomException(item, $"unexpected {tag} at byte {start}; expected a data element");
                if (!first && tag.CompareTo(previous) <= 0)
                    throw new DicomException(item, $"tag {tag} at byte {start} is not in ascending order after {previous} (PS3.5 section 7.1)");
                if (tag.Group == 0x0002 && depth == 0 && !first)
                    throw new DicomException(item, $"File Meta group element {tag} inside the data set at byte {start}");
                if (options.StopBeforePixelData && depth == 0 && tag == DicomTag.PixelData) { _stopped = true; Position = start; return; }
                var element = ReadElement(end, target, depth);
                if (element != null)
                {
                    target.Add(element);
                    if (tag == DicomTag.SpecificCharacterSet) target.TextEncoding = EncodingFor(target.GetString(tag));
                }
                previous = tag; first = false;
            }
            if (untilItemDelimiter && !_stopped) throw new DicomException(item, $"item of undefined length ends at byte {Position} without an Item Delimitation Item");
        }

        public DicomElement? ReadElement(int end, DicomDataset owner, int depth)
        {
            int start = Position;
            Need(8, end, "an element header");
            var tag = new DicomTag(U16(Position), U16(Position + 2));
            DicomVR vr;
            uint length;
            bool isExplicit = explicitVR || tag.Group == 0x0002;
            if (isExplicit)
            {
                var s = bytes.Span;
                if (!DicomVRInfo.TryParse(s[Position + 4], s[Position + 5], out vr))
                    throw new DicomException(item, $"element {tag} at byte {start} has invalid VR bytes 0x{s[Position + 4]:X2}{s[Position + 5]:X2}");
                if (DicomVRInfo.HasLongLength(vr))
                {
                    Need(12, end, $"the header of {tag}");
                    length = U32(Position + 8); Position += 12;
                }
                else
                {
                    length = U16(Position + 6); Position += 8;
                }
            }
            else
            {
                vr = DicomDictionary.ImplicitVR(tag);
                length = U32(Position + 4); Position += 8;
            }

            if (length == 0xFFFFFFFF)
            {
                if (tag == DicomTag.PixelData) return ReadEncapsulated(tag, end);
                if (vr is DicomVR.SQ or DicomVR.UN)
                {
                    // PS3.5 section 6.2.2: an undefined-length UN is a sequence encoded in Implicit VR Little Endian.
                    var sub = vr == DicomVR.UN && explicitVR ? new Parser(bytes, item, options, false, false) { Position = Position } : this;
                    var items = sub.ReadItems(end, owner, depth + 1, definedEnd: null);
                    Position = sub.Position;
                    return new DicomElement(tag, items);
                }
                throw new DicomException(item, $"element {tag} ({vr}) at byte {start} has undefined length, allowed only for SQ, UN and Pixel Data");
            }

            if (length > (uint)(end - Position))
                throw new DicomException(item, $"element {tag} ({vr}) at byte {start} declares {length} bytes but only {end - Position} remain (truncated file?)");
            int len = (int)length;
            if (vr == DicomVR.SQ)
            {
                var items = ReadItems(Position + len, owner, depth + 1, definedEnd: Position + len);
                return new DicomElement(tag, items);
            }
            var data = bytes.Slice(Position, len);
            Position += len;
            if (bigEndian && tag.Group != 0x0002)
            {
                int unit = DicomVRInfo.SwapUnit(vr);
                if (unit > 1) data = Swap(data, unit);
            }
            return new DicomElement(tag, vr, data);
        }

        private List<DicomDataset> ReadItems(int end, DicomDataset owner, int depth, int? definedEnd)
        {
            if (depth > options.MaxSequenceDepth) throw new DicomException(item, $"sequences nested deeper than {options.MaxSequenceDepth} at byte {Position}");
            var items = new List<DicomDataset>();
            while (definedEnd == null || Position < definedEnd)
            {
                int start = Position;
                Need(8, end, "an item header");
                var tag = new DicomTag(U16(Position), U16(Position + 2));
                uint length = U32(Position + 4);
                Position += 8;
                if (tag == DicomTag.SequenceDelimitationItem)
                {
                    if (definedEnd != null) throw new DicomException(item, $"Sequence Delimitation Item at byte {start} inside a sequence of defined length");
                    return items;
                }
                if (tag != DicomTag.Item) throw new DicomException(item, $"expected an Item (FFFE,E000) at byte {start}, found {tag}");
                var dataset = new DicomDataset { SourceName = item, TextEncoding = owner.TextEncoding };
                if (length == 0xFFFFFFFF) ReadDataSet(dataset, end, depth, untilItemDelimiter: true);
                else
                {
                    if (length > (uint)(end - Position)) throw new DicomException(item, $"item at byte {start} declares {length} bytes but only {end - Position} remain");
                    int itemEnd = Position + (int)length;
                    ReadDataSet(dataset, itemEnd, depth, untilItemDelimiter: false);
                    Position = itemEnd;
                }
                items.Add(dataset);
            }
            return items;
        }

        private DicomElement ReadEncapsulated(DicomTag tag, int end)
        {
            // PS3.5 section A.4: items of defined length (Basic Offset Table first), then a Sequence Delimitation Item.
            var fragments = new List<ReadOnlyMemory<byte>>();
            while (true)
            {
                int start = Position;
                Need(8, end, "a pixel data fragment header");
                var t = new DicomTag(U16(Position), U16(Position + 2));
                uint length = U32(Position + 4);
                Position += 8;
                if (t == DicomTag.SequenceDelimitationItem) break;
                if (t != DicomTag.Item) throw new DicomException(item, $"encapsulated Pixel Data: expected a fragment Item at byte {start}, found {t}");
                if (length == 0xFFFFFFFF || length > (uint)(end - Position))
                    throw new DicomException(item, $"encapsulated Pixel Data: fragment at byte {start} declares {length} bytes but {end - Position} remain");
                fragments.Add(bytes.Slice(Position, (int)length));
                Position += (int)length;
            }
            if (fragments.Count == 0) throw new DicomException(item, "encapsulated Pixel Data has no Basic Offset Table item (PS3.5 section A.4)");
            return DicomElement.Encapsulated(tag, fragments);
        }

        private static ReadOnlyMemory<byte> Swap(ReadOnlyMemory<byte> data, int unit)
        {
            var copy = data.ToArray();
            for (int i = 0; i + unit <= copy.Length; i += unit) Array.Reverse(copy, i, unit);
            return copy;
        }
    }

    /// <summary>Resolves the data set's character set (PS3.3 C.12.1.1.2): UTF-8 for ISO_IR 192, Latin-1 otherwise.</summary>
    internal static Encoding EncodingFor(string? specificCharacterSet) =>
        specificCharacterSet != null && specificCharacterSet.Contains("ISO_IR 192", StringComparison.Ordinal) ? Encoding.UTF8 : Encoding.Latin1;
}
