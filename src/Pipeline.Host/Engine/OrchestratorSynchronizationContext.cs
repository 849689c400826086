using System.Collections.Concurrent;

namespace Pipeline.Host.Engine;

/// <summary>
/// Runs an orchestrator's continuations one at a time on the instance's pump, in the order they were posted, so that
/// orchestrator code is single-threaded and its calls are numbered deterministically (Durable Functions does the
/// same with its own task scheduler).
/// </summary>
internal sealed class OrchestratorSynchronizationContext(Action wake) : SynchronizationContext
{
    private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _ready = new();
    private int _pumpThread = -1;

    public override void Post(SendOrPostCallback d, object? state)
    {
        _ready.Enqueue((d, state));
        // A post from outside the pump (orchestrator code that escaped its thread) must wake it.
        if (Environment.CurrentManagedThreadId != Volatile.Read(ref _pumpThread)) wake();
    }

    public override void Send(SendOrPostCallback d, object? state)
        => throw new NotSupportedException("Orchestrator code cannot block on its own thread.");

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Runs posted continuations until none is left (they may post more).</summary>
    public void RunReady()
    {
        var previous = Current;
        SetSynchronizationContext(this);
        Volatile.Write(ref _pumpThread, Environment.CurrentManagedThreadId);
        try
        {
            while (_ready.TryDequeue(out var item)) item.Callback(item.State);
        }
        finally
        {
            Volatile.Write(ref _pumpThread, -1);
            SetSynchronizationContext(previous);
        }
    }

    /// <summary>Runs <paramref name="action"/> as orchestrator code (on this context), then what it posted.</summary>
    public void Run(Action action)
    {
        var previous = Current;
        SetSynchronizationContext(this);
        Volatile.Write(ref _pumpThread, Environment.CurrentManagedThreadId);
        try { action(); }
        finally
        {
            Volatile.Write(ref _pumpThread, -1);
            SetSynchronizationContext(previous);
        }
        RunReady();
    }

    public bool IsCurrent => ReferenceEquals(Current, this);

    public bool HasReady => !_ready.IsEmpty;
}
