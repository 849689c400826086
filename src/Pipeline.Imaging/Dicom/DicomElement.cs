namespace Pipeline.Imaging.Dicom;

/// <summary>
/// One data element. Binary values are always held little-endian (the reader swaps big-endian streams), strings as the
/// raw bytes of the stream's character set. A sequence holds <see cref="Items"/>; encapsulated Pixel Data holds
/// <see cref="Fragments"/> (the first is the Basic Offset Table, possibly empty; PS3.5 section A.4).
/// </summary>
public sealed class DicomElement
{
    public DicomElement(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> data)
    {
        Tag = tag; VR = vr; Data = data;
    }

    public DicomElement(DicomTag tag, IEnumerable<DicomDataset> items)
    {
        Tag = tag; VR = DicomVR.SQ; Items = items.ToList();
    }

    private DicomElement(DicomTag tag, DicomVR vr, List<ReadOnlyMemory<byte>> fragments)
    {
        Tag = tag; VR = vr; Fragments = fragments;
    }

    /// <summary>Encapsulated pixel data: a Basic Offset Table followed by the fragments.</summary>
    public static DicomElement Encapsulated(DicomTag tag, IEnumerable<ReadOnlyMemory<byte>> offsetTableThenFragments)
        => new(tag, DicomVR.OB, offsetTableThenFragments.ToList());

    public DicomTag Tag { get; }
    public DicomVR VR { get; }
    public ReadOnlyMemory<byte> Data { get; }
    public List<DicomDataset>? Items { get; }
    public List<ReadOnlyMemory<byte>>? Fragments { get; }

    public bool IsSequence => Items != null;
    public bool IsEncapsulated => Fragments != null;

    public override string ToString() => $"{Tag} {VR} " + (Items != null ? $"{Items.Count} item(s)" : Fragments != null ? $"{Fragments.Count} fragment(s)" : $"{Data.Length} bytes");
}
