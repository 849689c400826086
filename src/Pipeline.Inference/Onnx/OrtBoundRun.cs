using Microsoft.ML.OnnxRuntime;

namespace Pipeline.Inference.Onnx;

/// <summary>
/// A session's inputs and outputs bound once (<see cref="OrtIoBinding"/>) for a loop that runs the same graph over the
/// same buffers: each <see cref="Run"/> reads the inputs' current contents and writes the outputs in place, without
/// looking names up or checking shapes again. Get it from <see cref="OrtSession.Bind"/>; not for concurrent use.
/// </summary>
public sealed class OrtBoundRun : IDisposable
{
    private readonly OrtSession _session;
    private readonly OrtIoBinding _binding;

    internal OrtBoundRun(OrtSession session, OrtIoBinding binding)
    {
        _session = session;
        _binding = binding;
    }

    /// <summary>One run over the bound tensors; cancellation terminates it and throws <see cref="OperationCanceledException"/>.</summary>
    public void Run(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _session.Execute(ro => _session.Session.RunWithBinding(ro, _binding), cancellationToken);
    }

    public void Dispose() => _binding.Dispose();
}
