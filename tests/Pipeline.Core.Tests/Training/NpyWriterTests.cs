using System.Diagnostics;
using Pipeline.Core.Training;

namespace Pipeline.Core.Tests.Training;

/// <summary>The .npy files of the training-data export, read back by NumPy itself (the independent reader).</summary>
public sealed class NpyWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("npy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void NumPy_reads_what_the_writer_streams()
    {
        var f32 = Path.Combine(_dir, "a.npy");
        var i32 = Path.Combine(_dir, "b.npy");
        using (var a = NpyWriter.Float32(f32, 2, 3))
        using (var b = NpyWriter.Int32(i32, 4))
        {
            for (int r = 0; r < 5; r++)
            {
                a.Append(new float[] { r, r + 0.5f, -r, 1e-3f * r, float.MaxValue, -0.25f });
                b.Append(new[] { r, -r, int.MaxValue, int.MinValue + r });
            }
            Assert.Equal(5, a.Rows);
        }
        // an empty array (no rows) is valid too
        using (NpyWriter.Float32(Path.Combine(_dir, "empty.npy"), 3)) { }
        var script = """
            import numpy as np, sys
            d = sys.argv[1]
            a = np.load(d + "/a.npy"); b = np.load(d + "/b.npy"); e = np.load(d + "/empty.npy")
            assert a.dtype == np.float32 and a.shape == (5, 2, 3), (a.dtype, a.shape)
            assert b.dtype == np.int32 and b.shape == (5, 4), (b.dtype, b.shape)
            assert e.shape == (0, 3), e.shape
            r = np.arange(5, dtype=np.float32)
            exp = np.stack([r, r + 0.5, -r, np.float32(1e-3) * r, np.full(5, np.finfo(np.float32).max), np.full(5, -0.25)], 1).astype(np.float32).reshape(5, 2, 3)
            assert np.array_equal(a, exp), a
            ri = np.arange(5, dtype=np.int64)
            assert np.array_equal(b, np.stack([ri, -ri, np.full(5, 2**31 - 1), -2**31 + ri], 1).astype(np.int32)), b
            with open(d + "/a.npy", "rb") as f:
                head = f.read(10)
            assert head[:8] == b"\x93NUMPY\x01\x00" and (10 + int.from_bytes(head[8:10], "little")) % 64 == 0
            print("ok")
            """;
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(_dir);
        using var p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"numpy check failed: {stdout}\n{stderr}");
        Assert.Equal("ok", stdout.Trim());
    }

    [Fact]
    public void A_row_of_the_wrong_length_is_refused()
    {
        using var a = NpyWriter.Float32(Path.Combine(_dir, "c.npy"), 2, 2);
        var e = Assert.Throws<ArgumentException>(() => a.Append(new float[] { 1f, 2f, 3f }));
        Assert.Contains("4 values (2x2), not 3", e.Message);
        Assert.Throws<InvalidOperationException>(() => a.Append(new[] { 1, 2, 3, 4 }));
    }
}
