using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Pipeline.Inference.Onnx;

namespace Pipeline.Inference.Tests.Onnx;

public class OrtSessionTests
{
    private static string Blend => Path.Combine(TestModels.PixelBlend, "denoiser.onnx");

    [Fact]
    public void The_official_package_is_loaded_with_its_version_and_the_cpu_provider()
    {
        Assert.Equal("1.31.1", OrtEnvironment.Version);
        Assert.Contains("CPUExecutionProvider", OrtEnvironment.AvailableProviders);
    }

    [Fact]
    public void Session_reports_inputs_with_symbolic_batch_dimension()
    {
        using var s = OrtSession.Open(Path.Combine(TestModels.PixelInpaint, "denoiser.onnx"));
        Assert.Equal(["x_t", "t", "mask", "context", "hf", "ref"], s.Inputs.Select(i => i.Name));
        var x = s.Inputs[0];
        Assert.Equal(TensorElementType.Float, x.ElementType);
        Assert.Equal([-1L, 1, 16, 16], x.Dimensions);
        Assert.Equal("batch", x.SymbolicDimensions[0]);
        Assert.Equal("[batch, 1, 16, 16]", x.ShapeText);
        Assert.Equal(TensorElementType.Float, s.Inputs[1].ElementType);
        Assert.Equal("eps", Assert.Single(s.Outputs).Name);
        Assert.Equal("CPUExecutionProvider", s.ExecutionProvider);
    }

    [Fact]
    public void Tensor_lies_over_the_managed_buffer_without_a_copy()
    {
        var data = new float[2 * 3];
        using var t = OrtValue.CreateTensorValueFromMemory(data, [2, 3]);
        var info = t.GetTensorTypeAndShape();
        Assert.Equal(TensorElementType.Float, info.ElementDataType);
        Assert.Equal([2L, 3], info.Shape);
        // ORT's view of the data is the managed array itself: writes through either side show on the other
        t.GetTensorMutableDataAsSpan<float>()[4] = 7f;
        Assert.Equal(7f, data[4]);
        data[1] = -3f;
        Assert.Equal(-3f, t.GetTensorDataAsSpan<float>()[1]);
    }

    [Fact]
    public void Run_writes_into_the_preallocated_output_and_is_repeatable()
    {
        using var s = OrtSession.Open(Blend);
        var x = Enumerable.Range(0, 2 * 256).Select(i => MathF.Sin(i * 0.1f)).ToArray();
        var r = Enumerable.Range(0, 2 * 256).Select(i => MathF.Cos(i * 0.05f)).ToArray();
        long[] t = [10, 900];
        var out1 = new float[2 * 256];
        var out2 = new float[2 * 256];
        using var tx = OrtValue.CreateTensorValueFromMemory(x, [2, 1, 16, 16]);
        using var tt = OrtValue.CreateTensorValueFromMemory(t, [2]);
        using var tr = OrtValue.CreateTensorValueFromMemory(r, [2, 1, 16, 16]);
        using var o1 = OrtValue.CreateTensorValueFromMemory(out1, [2, 1, 16, 16]);
        using var o2 = OrtValue.CreateTensorValueFromMemory(out2, [2, 1, 16, 16]);
        s.Run(["x_t", "t", "ref"], [tx, tt, tr], ["eps"], [o1]);
        s.Run(["ref", "x_t", "t"], [tr, tx, tt], ["eps"], [o2]);
        Assert.Contains(out1, v => v != 0);
        Assert.Equal(out1, out2);
        // the two batch items differ (different t and inputs)
        Assert.NotEqual(out1.AsSpan(0, 256).ToArray(), out1.AsSpan(256, 256).ToArray());
    }

    [Fact]
    public void Bound_run_reads_the_buffers_current_contents_and_equals_a_plain_run()
    {
        using var s = OrtSession.Open(Blend);
        var x = new float[256];
        var r = Enumerable.Range(0, 256).Select(i => MathF.Cos(i * 0.05f)).ToArray();
        long[] t = [0];
        var bound = new float[256];
        var plain = new float[256];
        using var tx = OrtValue.CreateTensorValueFromMemory(x, [1, 1, 16, 16]);
        using var tt = OrtValue.CreateTensorValueFromMemory(t, [1]);
        using var tr = OrtValue.CreateTensorValueFromMemory(r, [1, 1, 16, 16]);
        using var ob = OrtValue.CreateTensorValueFromMemory(bound, [1, 1, 16, 16]);
        using var op = OrtValue.CreateTensorValueFromMemory(plain, [1, 1, 16, 16]);
        using var run = s.Bind(["x_t", "t", "ref"], [tx, tt, tr], ["eps"], [ob]);
        float[]? previous = null;
        for (var step = 0; step < 3; step++)
        {
            // the loop rewrites the bound input buffers in place, as the sampler does
            for (var i = 0; i < x.Length; i++) x[i] = MathF.Sin(i * 0.1f + step);
            t[0] = 100 + 300 * step;
            run.Run();
            s.Run(["x_t", "t", "ref"], [tx, tt, tr], ["eps"], [op]);
            Assert.Equal(plain, bound);
            if (previous is not null) Assert.NotEqual(previous, bound);
            previous = (float[])bound.Clone();
        }
    }

    [Fact]
    public void Binding_checks_shapes_like_a_plain_run()
    {
        using var s = OrtSession.Open(Blend);
        using var tx = OrtValue.CreateTensorValueFromMemory(new float[64], [1, 1, 8, 8]);
        using var o = OrtValue.CreateTensorValueFromMemory(new float[256], [1, 1, 16, 16]);
        var e = Assert.Throws<OrtShapeException>(() => s.Bind(["x_t"], [tx], ["eps"], [o]));
        Assert.Contains("denoiser.onnx", e.Message);
        Assert.Contains("x_t", e.Message);
    }

    [Fact]
    public void Wrong_input_shape_is_a_clear_exception_naming_model_and_input()
    {
        using var s = OrtSession.Open(Blend);
        using var tx = OrtValue.CreateTensorValueFromMemory(new float[2 * 64], [2, 1, 8, 8]);
        using var tt = OrtValue.CreateTensorValueFromMemory(new long[2], [2]);
        using var tr = OrtValue.CreateTensorValueFromMemory(new float[2 * 256], [2, 1, 16, 16]);
        using var o = OrtValue.CreateTensorValueFromMemory(new float[2 * 256], [2, 1, 16, 16]);
        var e = Assert.Throws<OrtShapeException>(() => s.Run(["x_t", "t", "ref"], [tx, tt, tr], ["eps"], [o]));
        Assert.Contains("x_t", e.Message);
        Assert.Contains("[batch, 1, 16, 16]", e.Message);
        using var tf = OrtValue.CreateTensorValueFromMemory(new float[2], [2]);
        var e2 = Assert.Throws<OrtShapeException>(() => s.Run(["x_t", "t", "ref"], [tr, tf, tr], ["eps"], [o]));
        Assert.Contains("Int64", e2.Message);
        var e3 = Assert.Throws<OrtShapeException>(() => s.Run(["nope"], [tr], ["eps"], [o]));
        Assert.Contains("has no input 'nope'", e3.Message);
    }

    [Fact]
    public void Batch_dimension_mismatch_between_inputs_is_reported_by_ort_as_exception_naming_the_model()
    {
        using var s = OrtSession.Open(Blend);
        using var tx = OrtValue.CreateTensorValueFromMemory(new float[2 * 256], [2, 1, 16, 16]);
        using var tt = OrtValue.CreateTensorValueFromMemory(new long[3], [3]);
        using var tr = OrtValue.CreateTensorValueFromMemory(new float[2 * 256], [2, 1, 16, 16]);
        using var o = OrtValue.CreateTensorValueFromMemory(new float[2 * 256], [2, 1, 16, 16]);
        var e = Assert.Throws<OrtException>(() => s.Run(["x_t", "t", "ref"], [tx, tt, tr], ["eps"], [o]));
        Assert.Contains("denoiser.onnx", e.Message);
        Assert.False(string.IsNullOrEmpty(e.OrtMessage));
        Assert.IsType<OnnxRuntimeException>(e.InnerException);
    }

    [Fact]
    public void Missing_or_invalid_model_file_is_a_clear_exception()
    {
        Assert.Throws<FileNotFoundException>(() => OrtSession.Open("/nonexistent/model.onnx"));
        var bad = Path.Combine(Path.GetTempPath(), $"bad-{Guid.NewGuid():N}.onnx");
        File.WriteAllText(bad, "not a model");
        try
        {
            var e = Assert.Throws<OrtException>(() => OrtSession.Open(bad));
            Assert.Contains(bad, e.Message);
        }
        finally { File.Delete(bad); }
    }

    [Fact]
    public void Cuda_request_gives_a_cuda_session_or_a_clear_error_and_falls_back_when_configured()
    {
        // The CPU package has no CUDA provider, so here the request fails; with the GPU package on a CUDA machine it
        // succeeds. Either way the outcome is explicit.
        var cudaUsable = false;
        try
        {
            using var s = OrtSession.Open(Blend, new OrtSessionOptions { ExecutionProvider = OrtExecutionProvider.Cuda });
            Assert.Equal("CUDAExecutionProvider", s.ExecutionProvider);
            cudaUsable = true;
        }
        catch (OrtExecutionProviderException e)
        {
            Assert.Contains("CUDA was requested", e.Message);
            Assert.Contains("denoiser.onnx", e.Message);
            Assert.Contains("OnnxRuntimeFlavor=Gpu", e.Message);
            Assert.Contains("FallbackToCpu", e.Message);
        }
        using var fb = OrtSession.Open(Blend, new OrtSessionOptions { ExecutionProvider = OrtExecutionProvider.Cuda, FallbackToCpu = true });
        if (cudaUsable) Assert.Equal("CUDAExecutionProvider", fb.ExecutionProvider);
        else
        {
            Assert.Equal("CPUExecutionProvider", fb.ExecutionProvider);
            Assert.Contains("running on the CPU", fb.ExecutionProviderNote);
        }
        Assert.Equal(3, fb.Inputs.Count);
    }

    [Fact]
    public void Session_options_are_applied_and_invalid_ones_refused()
    {
        using var s = OrtSession.Open(Blend, new OrtSessionOptions
        {
            IntraOpThreads = 1, InterOpThreads = 1, GraphOptimization = GraphOptimizationLevel.ORT_ENABLE_BASIC,
            ExecutionMode = ExecutionMode.ORT_PARALLEL, EnableMemoryPattern = false, EnableCpuMemArena = false,
        });
        Assert.Equal(3, s.Inputs.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => OrtSession.Open(Blend, new OrtSessionOptions { IntraOpThreads = -1 }));
    }

    [Fact]
    public void Cancelled_token_stops_before_running()
    {
        using var s = OrtSession.Open(Blend);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => s.Run([], [], [], [], cts.Token));
    }

    [Fact]
    public void A_disposed_session_is_refused()
    {
        var s = OrtSession.Open(Blend);
        s.Dispose();
        Assert.Throws<ObjectDisposedException>(() => s.Run([], [], [], []));
    }
}
