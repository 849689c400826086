using System.Diagnostics;
using System.Runtime.InteropServices;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Synthetic;

namespace Pipeline.Imaging.Tests.Dicom;

/// <summary>Builders and tool runners shared by the DICOM tests.</summary>
internal static class TestDicom
{
    /// <summary>A minimal grayscale image object over the given stored values (one row), unsigned 16-bit.</summary>
    public static DicomFile Grayscale(ushort[] stored, int rows, int columns, int bitsStored = 12, string photometric = "MONOCHROME2",
        Action<DicomDataset>? extra = null)
    {
        var ds = new DicomDataset();
        ds.SetString(DicomTag.SOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.7");
        ds.SetString(DicomTag.SOPInstanceUID, DicomVR.UI, DicomUid.Generate());
        ds.SetString(DicomTag.Modality, DicomVR.CS, "OT");
        ds.SetUInt16(DicomTag.SamplesPerPixel, 1);
        ds.SetString(DicomTag.PhotometricInterpretation, DicomVR.CS, photometric);
        ds.SetUInt16(DicomTag.Rows, (ushort)rows);
        ds.SetUInt16(DicomTag.Columns, (ushort)columns);
        ds.SetUInt16(DicomTag.BitsAllocated, 16);
        ds.SetUInt16(DicomTag.BitsStored, (ushort)bitsStored);
        ds.SetUInt16(DicomTag.HighBit, (ushort)(bitsStored - 1));
        ds.SetUInt16(DicomTag.PixelRepresentation, 0);
        extra?.Invoke(ds);
        ds.SetBytes(DicomTag.PixelData, DicomVR.OW, MemoryMarshal.AsBytes(stored.AsSpan()).ToArray());
        return new DicomFile(new DicomDataset(), ds, TransferSyntax.ExplicitVRLittleEndian, "test.dcm");
    }

    /// <summary>A small synthetic mammogram (deterministic).</summary>
    public static (DicomFile File, MammoPhantomImage Phantom) Mammo(int rows = 256, int columns = 208, bool monochrome1 = false, ulong seed = 5)
    {
        var spec = new MammoImageSpec(rows, columns, 240.0 / rows, MammoView.MLO, BreastSide.R, seed, 0.5,
            [new LesionSpec(LesionKind.CircumscribedMass, 20, 77)]);
        var phantom = MammoPhantom.Render(spec);
        var file = MammoDicomFactory.Create(phantom, new MammoDicomIdentity("PAT1", "Doe^Jane", 55, DicomUid.FromName($"t/study/{seed}"),
            DicomUid.FromName($"t/series/{seed}"), DicomUid.FromName($"t/sop/{seed}/{monochrome1}"), DicomUid.FromName("t/for"), "1", "ACC1", 1, 1,
            new DateOnly(2024, 5, 1), monochrome1));
        return (file, phantom);
    }

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "pipeline-dicom-tests-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>Runs a Debian tool; returns (exit code, stdout, stderr).</summary>
    public static (int Code, string Out, string Err) Run(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {tool}");
        var outTask = p.StandardOutput.ReadToEndAsync();
        var errTask = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException($"{tool} did not finish in 120 s"); }
        return (p.ExitCode, outTask.Result, errTask.Result);
    }

    public static void RunOk(string tool, params string[] args)
    {
        var (code, o, e) = Run(tool, args);
        if (code != 0) throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({code}): {o}\n{e}");
    }
}
