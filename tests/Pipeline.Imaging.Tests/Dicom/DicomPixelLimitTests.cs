using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Ingestion;

namespace Pipeline.Imaging.Tests.Dicom;

/// <summary>Oversized headers are refused from the header, before a pixel buffer of the claimed size exists.</summary>
public class DicomPixelLimitTests
{
    /// <summary>A file whose header claims <paramref name="rows"/> x <paramref name="columns"/> 8-bit pixels but holds
    /// only a few bytes of pixel data, in the given transfer syntax (native or RLE-encapsulated).</summary>
    private static byte[] Claiming(int rows, int columns, bool rle, int frames = 1)
    {
        var ds = new DicomDataset();
        ds.SetString(DicomTag.SOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.7");
        ds.SetString(DicomTag.SOPInstanceUID, DicomVR.UI, DicomUid.Generate());
        ds.SetUInt16(DicomTag.SamplesPerPixel, 1);
        ds.SetString(DicomTag.PhotometricInterpretation, DicomVR.CS, "MONOCHROME2");
        if (frames > 1) ds.SetString(DicomTag.NumberOfFrames, DicomVR.IS, frames.ToString(System.Globalization.CultureInfo.InvariantCulture));
        ds.SetUInt16(DicomTag.Rows, (ushort)rows);
        ds.SetUInt16(DicomTag.Columns, (ushort)columns);
        ds.SetUInt16(DicomTag.BitsAllocated, 8);
        ds.SetUInt16(DicomTag.BitsStored, 8);
        ds.SetUInt16(DicomTag.HighBit, 7);
        ds.SetUInt16(DicomTag.PixelRepresentation, 0);
        if (rle)
        {
            // Offset table + one frame: a 64-byte RLE header (1 segment at offset 64) and a replicate run of 128 zeros.
            var frame = new byte[66];
            frame[0] = 1; frame[4] = 64;
            frame[64] = unchecked((byte)(sbyte)-127); frame[65] = 0;
            ds.Add(DicomElement.Encapsulated(DicomTag.PixelData, [ReadOnlyMemory<byte>.Empty, frame]));
        }
        else ds.SetBytes(DicomTag.PixelData, DicomVR.OB, new byte[16]);
        var file = new DicomFile(new DicomDataset(), ds, rle ? TransferSyntax.RleLossless : TransferSyntax.ExplicitVRLittleEndian, "huge.dcm");
        return DicomFileWriter.ToBytes(file);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AHeaderClaiming40000By40000IsRefusedWithoutAllocatingItsSize(bool rle)
    {
        var bytes = Claiming(40_000, 40_000, rle);
        Assert.True(bytes.Length < 4096);
        Assert.Throws<DicomException>(() => DicomImage.Read(bytes, "warm-up.dcm")); // JIT and type loading outside the measurement
        // this thread's allocations only: the process-wide count includes tests running in parallel
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<DicomException>(() => DicomImage.Read(bytes, "big/huge.dcm"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // The claimed frame is 1.6e9 bytes; the refusal costs the header parse only.
        Assert.True(allocated < 1 << 20, $"refusal allocated {allocated:N0} bytes");
        Assert.Equal("big/huge.dcm", ex.Item);
        Assert.Contains("40000x40000", ex.Message);
        Assert.Contains("1,600,000,000", ex.Message); // the claimed pixels per frame
        Assert.Contains("100,000,000", ex.Message);   // the limit
    }

    [Fact]
    public void TheLimitIsConfigurableAndCountsEveryFrameAndBit()
    {
        var bytes = Claiming(1000, 1000, rle: false, frames: 50);
        // 1e6 pixels per frame passes a 2e6 per-frame limit, but 50 frames of 8 bits are 5e7 bytes > 1e7.
        var ex = Assert.Throws<DicomException>(() => DicomImage.Read(bytes, "stack.dcm",
            new DicomImageReadOptions { Limits = new DicomPixelLimits { MaxFramePixels = 2_000_000, MaxPixelDataBytes = 10_000_000 } }));
        Assert.Contains("50 frame(s)", ex.Message);
        Assert.Contains("50,000,000 bytes", ex.Message);
        Assert.Contains("10,000,000", ex.Message);
        var perFrame = Assert.Throws<DicomException>(() => DicomImage.Read(bytes, "stack.dcm",
            new DicomImageReadOptions { Limits = new DicomPixelLimits { MaxFramePixels = 999_999 } }));
        Assert.Contains("999,999 pixels per frame", perFrame.Message);
        // Within the limits the read goes on to the pixel data (here too short for 50 frames: a different refusal).
        var truncated = Assert.Throws<DicomException>(() => DicomImage.Read(bytes, "stack.dcm"));
        Assert.Contains("truncated", truncated.Message);
    }

    [Fact]
    public async Task IngestionRefusesTheOversizedFileByNameAndIndexesTheRest()
    {
        var dir = TestDicom.TempDir();
        File.WriteAllBytes(Path.Combine(dir, "huge.dcm"), Claiming(40_000, 40_000, rle: true));
        DicomFileWriter.Save(TestDicom.Grayscale(new ushort[12], 3, 4), Path.Combine(dir, "small.dcm"));
        File.WriteAllText(Path.Combine(dir, "annotations.csv"), "file,width,height,class,x0,y0,x1,y1\nhuge.dcm,40000,40000,,,,,\nsmall.dcm,4,3,,,,,\n");
        foreach (bool decode in new[] { true, false })
        {
            var result = await DatasetIngestion.RunAsync(new FolderDatasetSource(dir), new DatasetIngestionOptions { DecodePixels = decode });
            var error = Assert.Single(result.Report.Errors);
            Assert.Equal("huge.dcm", error.Path);
            Assert.Contains("40000x40000", error.Message);
            Assert.Contains("limit of 100,000,000 pixels per frame", error.Message);
            Assert.Equal(1, result.Report.ValidImages);
            Assert.Equal(3, result.Index.FileCount);
        }
        Directory.Delete(dir, true);
    }
}
