using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;

namespace Pipeline.Host.Engine;

/// <summary>
/// Group commit of checkpoint records: records queue up while one append is in flight and go out together in the next
/// (at most <see cref="DurableEngineOptions.MaxLogBatchBytes"/> per append), so the storage cost per record falls as
/// the load rises. Records are written in the order they were queued; <see cref="FlushAsync"/> waits until every record
/// queued before it is durable. A failed append faults the writer (the instance is then abandoned and resumed later).
/// </summary>
internal sealed class CheckpointLogWriter
{
    private readonly ICheckpointLogAppender _appender;
    private readonly int _maxBatchBytes;
    private readonly Channel<CheckpointRecord> _queue = Channel.CreateUnbounded<CheckpointRecord>(new UnboundedChannelOptions { SingleReader = true });
    private readonly object _gate = new();
    private readonly List<(long UpTo, TaskCompletionSource Done)> _waiters = [];
    private readonly Task _loop;
    private long _queued;   // written by the single producer (the instance's pump)
    private long _durable;  // guarded by _gate
    private Exception? _fault;

    /// <summary>Largest encoded record: payloads between orchestrator and activities must be small (blob references).</summary>
    public const int MaxRecordBytes = 1 << 20;

    public CheckpointLogWriter(ICheckpointLogAppender appender, int maxBatchBytes, Action<Exception> onFault)
    {
        _appender = appender;
        _maxBatchBytes = maxBatchBytes;
        _loop = Task.Run(() => RunAsync(onFault));
    }

    /// <summary>Batches written so far (for diagnostics and the benchmark).</summary>
    public int Appends { get; private set; }

    public void Append(CheckpointRecord record)
    {
        _queued++;
        if (!_queue.Writer.TryWrite(record)) throw new InvalidOperationException("The checkpoint log writer is closed.");
    }

    public Task FlushAsync()
    {
        lock (_gate)
        {
            if (_fault is not null) return Task.FromException(_fault);
            if (_durable >= _queued) return Task.CompletedTask;
            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((_queued, tcs));
            return tcs.Task;
        }
    }

    /// <summary>Stops after writing what is queued.</summary>
    public async Task CloseAsync()
    {
        _queue.Writer.TryComplete();
        try { await _loop.ConfigureAwait(false); } catch { /* the fault was reported */ }
    }

    private async Task RunAsync(Action<Exception> onFault)
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        try
        {
            while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                // A batch ends once it reaches the limit, so it exceeds it by at most one record
                // (records are capped at MaxRecordBytes; limit + record stays under the 4 MiB append block limit).
                buffer.ResetWrittenCount();
                int count = 0;
                while (buffer.WrittenCount < _maxBatchBytes && _queue.Reader.TryRead(out var record))
                {
                    record.WriteLine(buffer, json);
                    count++;
                }
                if (count == 0) continue;
                await _appender.AppendAsync(buffer.WrittenMemory).ConfigureAwait(false);
                Appends++;
                Release(count);
            }
        }
        catch (Exception e)
        {
            lock (_gate)
            {
                _fault = e;
                foreach (var (_, done) in _waiters) done.TrySetException(e);
                _waiters.Clear();
            }
            onFault(e);
        }
    }

    private void Release(int count)
    {
        lock (_gate)
        {
            _durable += count;
            for (int i = _waiters.Count - 1; i >= 0; i--)
                if (_waiters[i].UpTo <= _durable) { _waiters[i].Done.TrySetResult(); _waiters.RemoveAt(i); }
        }
    }
}
