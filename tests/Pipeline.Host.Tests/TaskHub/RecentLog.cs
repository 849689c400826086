using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Pipeline.Host.Tests.TaskHub;

/// <summary>
/// The last lines the framework logged in this test process (warnings and errors, plus its partition-manager and
/// lease information), printed when a fault test fails so the failure can be read without a rerun.
/// </summary>
internal sealed class RecentLog : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly int _capacity;

    public RecentLog(int capacity = 400) { _capacity = capacity; }

    public ILoggerFactory CreateFactory() => LoggerFactory.Create(b => b.AddProvider(this).SetMinimumLevel(LogLevel.Information));

    public IEnumerable<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private void Add(string line)
    {
        _lines.Enqueue(line);
        while (_lines.Count > _capacity) _lines.TryDequeue(out _);
    }

    private sealed class Logger(RecentLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string message = formatter(state, exception);
            // every step and message is logged at Information; keep those about leases and partitions only
            if (logLevel < LogLevel.Warning && !(message.Contains("lease", StringComparison.OrdinalIgnoreCase) || message.Contains("partition", StringComparison.OrdinalIgnoreCase)))
                return;
            string first = message.Split('\n')[0];
            owner.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {(first.Length > 400 ? first[..400] : first)}");
        }
    }
}
