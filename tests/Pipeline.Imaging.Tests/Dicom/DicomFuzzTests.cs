using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Synthetic;

namespace Pipeline.Imaging.Tests.Dicom;

/// <summary>
/// Several hundred truncated and mutated DICOM files (native and encapsulated syntaxes): every one either decodes or
/// fails with a <see cref="DicomException"/> naming the file, within a time bound; nothing else escapes and nothing crashes.
/// </summary>
public class DicomFuzzTests
{
    private static List<(string Name, byte[] Bytes)> Seeds()
    {
        var dir = TestDicom.TempDir();
        var (file, _) = TestDicom.Mammo(96, 80);
        var src = Path.Combine(dir, "src.dcm");
        DicomFileWriter.Save(file, src);
        var seeds = new List<(string, byte[])> { ("explicit", File.ReadAllBytes(src)) };
        foreach (var (name, tool, args) in new[]
        {
            ("implicit", "dcmconv", "+ti"), ("big", "dcmconv", "+tb"), ("deflated", "dcmconv", "+td"), ("rle", "dcmcrle", ""),
            ("jpeg-lossless", "dcmcjpeg", "+e1"), ("jpeg-ls", "dcmcjpls", "+el"), ("j2k", "gdcmconv", "--j2k"),
        })
        {
            var output = Path.Combine(dir, name + ".dcm");
            var a = new List<string>();
            if (args.Length > 0) a.Add(args);
            a.Add(src); a.Add(output);
            TestDicom.RunOk(tool, a.ToArray());
            seeds.Add((name, File.ReadAllBytes(output)));
        }
        Directory.Delete(dir, true);
        return seeds;
    }

    [Fact]
    public void MutatedAndTruncatedFilesFailWithAClearErrorOrDecode()
    {
        var seeds = Seeds();
        var rng = new PhantomRandom(20261122);
        int cases = 0, failures = 0, decoded = 0;
        var unexpected = new List<string>();
        var slow = new List<string>();
        foreach (var (name, original) in seeds)
        {
            for (int k = 0; k < 60; k++)
            {
                var bytes = (byte[])original.Clone();
                string how;
                int mode = k % 5;
                if (mode == 0) { int len = rng.Next(0, bytes.Length); bytes = bytes[..len]; how = $"truncated to {len}"; }
                else if (mode == 1)
                {
                    int n = rng.Next(1, 24);
                    for (int j = 0; j < n; j++) bytes[rng.Next(0, bytes.Length)] = (byte)rng.Next(0, 256);
                    how = $"{n} random bytes";
                }
                else if (mode == 2)
                {
                    // corrupt the header region (first 2 KB), where tags, VRs and lengths live
                    int n = rng.Next(1, 8);
                    for (int j = 0; j < n; j++) bytes[rng.Next(0, Math.Min(2048, bytes.Length))] ^= (byte)(1 << rng.Next(0, 8));
                    how = $"{n} header bit flips";
                }
                else if (mode == 3)
                {
                    int at = rng.Next(132, bytes.Length - 4);
                    BitConverter.TryWriteBytes(bytes.AsSpan(at), rng.Chance(0.5) ? 0xFFFFFFFFu : (uint)rng.Next(0, int.MaxValue));
                    how = $"32-bit overwrite at {at}";
                }
                else
                {
                    // corrupt the tail: compressed codestream / pixel data
                    int n = rng.Next(1, 64);
                    for (int j = 0; j < n; j++) bytes[rng.Next(bytes.Length * 3 / 4, bytes.Length)] = (byte)rng.Next(0, 256);
                    how = $"{n} bytes in the pixel data";
                }
                cases++;
                string item = $"{name}#{k} ({how})";
                var sw = System.Diagnostics.Stopwatch.StartNew();
                var task = Task.Run(() =>
                {
                    using var image = DicomImage.Read(bytes, item, new DicomImageReadOptions { NativeDecodeTimeout = TimeSpan.FromSeconds(10) });
                    using var display = DicomRenderer.Render(image);
                });
                try
                {
                    if (!task.Wait(TimeSpan.FromSeconds(30))) { unexpected.Add($"{item}: hang"); continue; }
                    decoded++;
                }
                catch (AggregateException ex) when (ex.InnerException is DicomException de)
                {
                    failures++;
                    Assert.StartsWith(item, de.Message);
                    if (sw.Elapsed > TimeSpan.FromSeconds(5)) slow.Add($"{item}: {sw.Elapsed.TotalSeconds:0.0} s: {de.Problem}");
                }
                catch (AggregateException ex)
                {
                    unexpected.Add($"{item}: {ex.InnerException!.GetType().Name}: {ex.InnerException.Message}");
                }
            }
        }
        foreach (var s in slow) Console.WriteLine("slow: " + s);
        Assert.True(unexpected.Count == 0, string.Join("\n", unexpected.Take(20)));
        Assert.True(cases >= 400, $"{cases} cases");
        Assert.True(failures > cases / 4, $"only {failures} of {cases} mutations were rejected");
    }
}
