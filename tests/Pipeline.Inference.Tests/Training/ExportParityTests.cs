using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Pipeline.Inference.Onnx;

namespace Pipeline.Inference.Tests.Training;

/// <summary>
/// The training job's ONNX export computes what PyTorch computes, through the ONNX Runtime the pipeline runs:
/// training/tests/export_parity_case.py exports a tiny perturbed model with PyTorch's output on a batch of 3 (not the
/// export batch, so the dynamic batch axis is exercised); this runs the graph and compares within 1e-4.
/// </summary>
public sealed class ExportParityTests
{
    [Theory]
    [InlineData("")]
    [InlineData("harmonised")]
    public void ExportedGraphMatchesTorchInOnnxRuntime(string placement)
    {
        var dir = Directory.CreateTempSubdirectory("export-parity-").FullName;
        try
        {
            string[] args = placement.Length == 0 ? ["training/tests/export_parity_case.py", dir] : ["training/tests/export_parity_case.py", dir, placement];
            var r = PythonTrainingJob.Run(TimeSpan.FromMinutes(5), args);
            Assert.True(r.ExitCode == 0, $"export_parity_case.py failed (exit {r.ExitCode}):\n{r.Output}");
            using var session = OrtSession.Open(Path.Combine(dir, "denoiser.onnx"));
            var names = new List<string>();
            var values = new List<OrtValue>();
            try
            {
                foreach (var input in JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "inputs.json"))).RootElement.EnumerateObject())
                {
                    var dims = input.Value.GetProperty("dims").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                    var data = input.Value.GetProperty("data");
                    names.Add(input.Name);
                    values.Add(input.Value.GetProperty("type").GetString() == "int64"
                        ? OrtValue.CreateTensorValueFromMemory(data.EnumerateArray().Select(v => v.GetInt64()).ToArray(), dims)
                        : OrtValue.CreateTensorValueFromMemory(data.EnumerateArray().Select(v => v.GetSingle()).ToArray(), dims));
                }
                var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "expected.json"))).RootElement;
                var shape = expected.GetProperty("dims").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                Assert.Equal([3L, 1, 32, 32], shape);
                var want = expected.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
                var got = new float[want.Length];
                using var output = OrtValue.CreateTensorValueFromMemory(got, shape);
                session.Run(names, values, [session.Outputs[0].Name], [output]);

                Assert.True(want.Max(MathF.Abs) > 1e-2f, "the reference output is ~0: parity would be meaningless");
                var worst = want.Zip(got, (w, g) => MathF.Abs(w - g) / (1e-4f + 1e-4f * MathF.Abs(w))).Max();
                Assert.True(worst <= 1f, $"ONNX Runtime differs from PyTorch beyond atol 1e-4 + rtol 1e-4 (worst ratio {worst:0.00})");
            }
            finally
            {
                foreach (var v in values) v.Dispose();
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
