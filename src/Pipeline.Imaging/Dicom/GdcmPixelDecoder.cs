using Pipeline.Imaging.Buffers;

namespace Pipeline.Imaging.Dicom;

/// <summary>
/// Decodes encapsulated pixel data (JPEG baseline/extended/lossless, JPEG-LS, JPEG 2000, RLE) with GDCM 3.0
/// (Debian libgdcm3.0 through gdcm-sharp). GDCM reads from a path, so in-memory files go through a temporary file.
/// Only files the managed reader accepted reach here (structure, lengths and fragments are checked first); GDCM's own
/// failures come back as <see cref="DicomException"/>. A corrupt codestream can keep a native decoder busy for a long
/// time (seen with mutated JPEG-LS in the fuzz test), and native code cannot be interrupted, so each decode runs on
/// its own thread under a watchdog: past <see cref="DicomImageReadOptions.NativeDecodeTimeout"/> the caller gets a
/// <see cref="DicomException"/> and the abandoned thread finishes (or not) in the background. Each decode uses its
/// own GDCM reader objects, so there is no shared state between threads.
/// </summary>
internal static class GdcmPixelDecoder
{
    public static ImageBuffer Decode(ReadOnlyMemory<byte> bytes, DicomFile file, DicomImageAttributes a, int frame, TimeSpan timeout)
    {
        ImageBuffer? result = null;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try { result = DecodeCore(bytes, file, a, frame); }
            catch (Exception ex) { error = ex; }
        }, 16 * 1024 * 1024) { IsBackground = true, Name = "gdcm-decode" };
        thread.Start();
        if (!thread.Join(timeout))
            throw new DicomException(file.Item, $"GDCM did not finish decoding {file.TransferSyntax} within {timeout.TotalSeconds:0} s; the compressed data is probably corrupt");
        if (error != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        return result!;
    }

    private static ImageBuffer DecodeCore(ReadOnlyMemory<byte> bytes, DicomFile file, DicomImageAttributes a, int frame)
    {
        var pixel = file.Dataset[DicomTag.PixelData]!;
        if (pixel.Fragments!.Count < 2 || pixel.Fragments.Skip(1).All(f => f.IsEmpty))
            throw new DicomException(file.Item, "encapsulated Pixel Data has no compressed fragments");
        if (a.NumberOfFrames > 1 && pixel.Fragments.Count - 1 < a.NumberOfFrames)
            throw new DicomException(file.Item, $"{a.NumberOfFrames} frames but only {pixel.Fragments.Count - 1} fragments");
        GdcmNative.EnsureResolver();
        var tmp = Path.Combine(Path.GetTempPath(), $"pipeline-gdcm-{Guid.NewGuid():N}.dcm");
        try
        {
            File.WriteAllBytes(tmp, bytes.ToArray());
            byte[] buffer;
            string photometric;
            int planar;
            {
                using var reader = new gdcm.ImageReader();
                reader.SetFileName(tmp);
                if (!reader.Read()) throw new DicomException(file.Item, $"GDCM could not read the image ({file.TransferSyntax})");
                using var image = reader.GetImage();
                uint w = image.GetDimension(0), h = image.GetDimension(1);
                if (w != a.Columns || h != a.Rows)
                    throw new DicomException(file.Item, $"GDCM decoded {w}x{h} but the header says {a.Columns}x{a.Rows}");
                long length = image.GetBufferLength();
                long frameBytes = (long)a.Rows * a.Columns * a.SamplesPerPixel * (a.BitsAllocated / 8);
                if (length < frameBytes * (frame + 1) || length > int.MaxValue)
                    throw new DicomException(file.Item, $"GDCM produced {length} bytes; expected {frameBytes} per frame for {a.NumberOfFrames} frame(s)");
                buffer = new byte[length];
                if (!image.GetBuffer(buffer)) throw new DicomException(file.Item, $"GDCM failed to decode the pixel data ({file.TransferSyntax})");
                photometric = image.GetPhotometricInterpretation().GetString()?.Trim() ?? a.PhotometricInterpretation;
                planar = (int)image.GetPlanarConfiguration();
                long fb = frameBytes;
                var slice = buffer.AsSpan((int)(fb * frame), (int)fb);
                return DicomImage.FromRaw(slice, file.Item, a, planar == 1 && a.SamplesPerPixel == 3, photometric);
            }
        }
        catch (DicomException) { throw; }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new DicomException(file.Item, $"GDCM failed on {file.TransferSyntax}: {ex.Message}", ex);
        }
        finally
        {
            try { File.Delete(tmp); } catch (IOException) { }
        }
    }
}
