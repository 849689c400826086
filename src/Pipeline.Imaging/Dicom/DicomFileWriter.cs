using System.Buffers.Binary;

namespace Pipeline.Imaging.Dicom;

/// <summary>
/// Writes a Part 10 file (PS3.10 section 7): 128-byte preamble, "DICM", File Meta Information with a recomputed group
/// length, then the data set in Explicit VR Little Endian (native or encapsulated pixel data). Sequences and items are
/// written with undefined length and delimiters (PS3.5 section 7.5.2), which every reader supports.
/// </summary>
public static class DicomFileWriter
{
    public static void Save(DicomFile file, string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        // Write to a temporary name and move, so a reader never sees a half-written file.
        var tmp = path + ".tmp-" + Environment.ProcessId;
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            Write(file, fs);
        File.Move(tmp, path, overwrite: true);
    }

    public static byte[] ToBytes(DicomFile file)
    {
        // sized for the pixel data and a header up front: a 2 MB image is written into one buffer, not a growing one's
        // doublings (each a large-object allocation and a copy)
        var pixel = file.Dataset[DicomTag.PixelData];
        long pixels = pixel is null ? 0 : pixel.Data.Length + (pixel.Fragments?.Sum(f => (long)f.Length + 8) ?? 0);
        using var ms = new MemoryStream((int)Math.Min(Array.MaxLength, pixels + (64 << 10)));
        Write(file, ms);
        return ms.Length == ms.Capacity ? ms.GetBuffer() : ms.ToArray();
    }

    public static void Write(DicomFile file, Stream stream)
    {
        var ts = file.TransferSyntax;
        if (!ts.IsExplicitVR || ts.IsBigEndian || ts.IsDeflated)
            throw new DicomException(file.Item, $"writing {ts} is not supported; write Explicit VR Little Endian or an encapsulated syntax");
        var pixel = file.Dataset[DicomTag.PixelData];
        if (pixel != null && pixel.IsEncapsulated != ts.IsEncapsulated)
            throw new DicomException(file.Item, $"Pixel Data is {(pixel.IsEncapsulated ? "encapsulated" : "native")} but the transfer syntax is {ts}");

        var meta = file.FileMetaInformation;
        meta.SetBytes(DicomTag.FileMetaInformationVersion, DicomVR.OB, new byte[] { 0, 1 });
        meta.SetString(DicomTag.MediaStorageSOPClassUID, DicomVR.UI, file.Dataset.GetString(DicomTag.SOPClassUID)
            ?? throw new DicomException(file.Item, "data set has no SOP Class UID (0008,0016)"));
        meta.SetString(DicomTag.MediaStorageSOPInstanceUID, DicomVR.UI, file.Dataset.GetString(DicomTag.SOPInstanceUID)
            ?? throw new DicomException(file.Item, "data set has no SOP Instance UID (0008,0018)"));
        meta.SetString(DicomTag.TransferSyntaxUID, DicomVR.UI, ts.Uid);
        meta.SetString(DicomTag.ImplementationClassUID, DicomVR.UI, DicomUid.ImplementationClassUid);
        meta.SetString(DicomTag.ImplementationVersionName, DicomVR.SH, DicomUid.ImplementationVersionName);
        meta.Remove(DicomTag.FileMetaInformationGroupLength);

        using var metaBody = new MemoryStream();
        var metaWriter = new BinaryWriter(metaBody);
        foreach (var e in meta.Elements) WriteElement(metaWriter, e, file.Item);
        metaWriter.Flush();

        var w = new BinaryWriter(stream);
        w.Write(new byte[128]);
        w.Write("DICM"u8);
        WriteHeader(w, DicomTag.FileMetaInformationGroupLength, DicomVR.UL, 4);
        w.Write((uint)metaBody.Length);
        metaBody.Position = 0;
        metaBody.CopyTo(stream);
        foreach (var e in file.Dataset.Elements)
        {
            if (e.Tag.Group == 0x0002) continue;
            WriteElement(w, e, file.Item);
        }
        w.Flush();
    }

    private static void WriteElement(BinaryWriter w, DicomElement e, string item)
    {
        if (e.Items != null)
        {
            WriteHeader(w, e.Tag, DicomVR.SQ, 0xFFFFFFFF);
            foreach (var it in e.Items)
            {
                WriteItemTag(w, DicomTag.Item, 0xFFFFFFFF);
                foreach (var child in it.Elements) WriteElement(w, child, item);
                WriteItemTag(w, DicomTag.ItemDelimitationItem, 0);
            }
            WriteItemTag(w, DicomTag.SequenceDelimitationItem, 0);
            return;
        }
        if (e.Fragments != null)
        {
            WriteHeader(w, e.Tag, DicomVR.OB, 0xFFFFFFFF);
            foreach (var f in e.Fragments)
            {
                int len = f.Length + (f.Length & 1);
                WriteItemTag(w, DicomTag.Item, (uint)len);
                w.Write(f.Span);
                if ((f.Length & 1) == 1) w.Write((byte)0);
            }
            WriteItemTag(w, DicomTag.SequenceDelimitationItem, 0);
            return;
        }
        var data = e.Data.Span;
        int padded = data.Length + (data.Length & 1);
        if (!DicomVRInfo.HasLongLength(e.VR) && padded > 0xFFFF)
            throw new DicomException(item, $"{e.Tag} ({e.VR}) value of {padded} bytes exceeds the 16-bit length of its VR");
        WriteHeader(w, e.Tag, e.VR, (uint)padded);
        w.Write(data);
        if ((data.Length & 1) == 1) w.Write(DicomVRInfo.IsString(e.VR) && e.VR != DicomVR.UI ? (byte)' ' : (byte)0);
    }

    private static void WriteHeader(BinaryWriter w, DicomTag tag, DicomVR vr, uint length)
    {
        Span<byte> h = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16LittleEndian(h, tag.Group);
        BinaryPrimitives.WriteUInt16LittleEndian(h[2..], tag.Element);
        var name = vr.ToString();
        h[4] = (byte)name[0]; h[5] = (byte)name[1];
        if (DicomVRInfo.HasLongLength(vr))
        {
            h[6] = 0; h[7] = 0;
            BinaryPrimitives.WriteUInt32LittleEndian(h[8..], length);
            w.Write(h);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(h[6..], (ushort)length);
            w.Write(h[..8]);
        }
    }

    private static void WriteItemTag(BinaryWriter w, DicomTag tag, uint length)
    {
        Span<byte> h = stackalloc byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(h, tag.Group);
        BinaryPrimitives.WriteUInt16LittleEndian(h[2..], tag.Element);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], length);
        w.Write(h);
    }
}
