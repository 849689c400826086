using System.Buffers.Binary;
using System.Text.Json;
using Pipeline.Imaging.Dicom;

namespace Pipeline.Imaging.Tests.Dicom;

/// <summary>Rendering against data/dicom/voi_vectors.json (PS3.3 formulas computed independently in numpy by make_voi_vectors.py).</summary>
public class VoiTests
{
    public static IEnumerable<object[]> Cases()
    {
        var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "dicom", "voi_vectors.json")));
        int i = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray()) yield return [i++, c.GetRawText()];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RenderedValuesEqualThePs33FormulaComputedIndependently(int caseIndex, string json)
    {
        var c = JsonDocument.Parse(json).RootElement;
        var stored = c.GetProperty("stored").EnumerateArray().Select(v => (ushort)v.GetInt32()).ToArray();
        var expected = c.GetProperty("expected").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        bool mono1 = c.GetProperty("monochrome1").GetBoolean();
        string kind = c.GetProperty("kind").GetString()!;
        var file = TestDicom.Grayscale(stored, 1, stored.Length, 12, mono1 ? "MONOCHROME1" : "MONOCHROME2", ds =>
        {
            ds.SetDecimals(DicomTag.RescaleSlope, c.GetProperty("slope").GetDouble());
            ds.SetDecimals(DicomTag.RescaleIntercept, c.GetProperty("intercept").GetDouble());
            if (kind == "window")
            {
                ds.SetDecimals(DicomTag.WindowCenter, c.GetProperty("centers").EnumerateArray().Select(v => v.GetDouble()).ToArray());
                ds.SetDecimals(DicomTag.WindowWidth, c.GetProperty("widths").EnumerateArray().Select(v => v.GetDouble()).ToArray());
                ds.SetString(DicomTag.VOILUTFunction, DicomVR.CS, c.GetProperty("function").GetString()!);
            }
            else
            {
                var lut = c.GetProperty("lut").EnumerateArray().Select(v => (ushort)v.GetInt32()).ToArray();
                var item = new DicomDataset();
                item.SetUInt16(DicomTag.LUTDescriptor, (ushort)lut.Length, (ushort)c.GetProperty("lutFirst").GetInt32(), (ushort)c.GetProperty("lutBits").GetInt32());
                var data = new byte[lut.Length * 2];
                for (int i = 0; i < lut.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(i * 2), lut[i]);
                item.SetBytes(DicomTag.LUTData, DicomVR.OW, data);
                ds.SetSequence(DicomTag.VOILUTSequence, item);
            }
        });
        // through bytes, so the writer and reader are part of the check
        using var image = DicomImage.Read(DicomFileWriter.ToBytes(file), $"case {caseIndex}");
        var options = new DicomRenderOptions { VoiIndex = kind == "window" ? c.GetProperty("index").GetInt32() : 0 };
        using var display = DicomRenderer.Render(image, options);
        var actual = display.Pixels<float>();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) < 2e-6, $"case {caseIndex} sample {i}: stored {stored[i]} expected {expected[i]} got {actual[i]}");
    }

    [Fact]
    public void WindowIndexOutOfRangeIsAClearError()
    {
        var file = TestDicom.Grayscale([1, 2, 3], 1, 3, 12, extra: ds => { ds.SetDecimals(DicomTag.WindowCenter, 2); ds.SetDecimals(DicomTag.WindowWidth, 4); });
        using var image = DicomImage.Read(DicomFileWriter.ToBytes(file), "one-window.dcm");
        var ex = Assert.Throws<DicomException>(() => DicomRenderer.Render(image, new DicomRenderOptions { VoiIndex = 1 }));
        Assert.Contains("window index 1", ex.Message);
    }

    [Fact]
    public void PixelPaddingRendersBlackForBothPolarities()
    {
        foreach (var photometric in new[] { "MONOCHROME1", "MONOCHROME2" })
        {
            var file = TestDicom.Grayscale([0, 100, 4000, 4095], 1, 4, 12, photometric, ds =>
            {
                ds.SetUInt16(DicomTag.PixelPaddingValue, 4095);
                ds.SetDecimals(DicomTag.WindowCenter, 2048); ds.SetDecimals(DicomTag.WindowWidth, 4096);
            });
            using var image = DicomImage.Read(DicomFileWriter.ToBytes(file), photometric);
            using var display = DicomRenderer.Render(image);
            Assert.Equal(0f, display.Pixels<float>()[3]);
            Assert.NotEqual(0f, display.Pixels<float>()[2]);
        }
    }

    [Fact]
    public void ForProcessingImagesAreReportedAndSkippedByDefault()
    {
        var file = TestDicom.Grayscale([1, 2], 1, 2, 12, extra: ds => ds.SetString(DicomTag.PresentationIntentType, DicomVR.CS, "FOR PROCESSING"));
        var bytes = DicomFileWriter.ToBytes(file);
        Assert.Throws<DicomForProcessingException>(() => DicomImage.Read(bytes, "raw.dcm"));
        using var image = DicomImage.Read(bytes, "raw.dcm", new DicomImageReadOptions { SkipForProcessing = false });
        Assert.True(image.Attributes.IsForProcessing);
    }
}
