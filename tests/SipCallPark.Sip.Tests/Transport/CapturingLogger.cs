using Microsoft.Extensions.Logging;

namespace SipCallPark.Sip.Tests.Transport;

/// <summary>Keeps every log entry with its structured properties; a test can wait for a matching one.</summary>
internal sealed class CapturingLogger : ILogger
{
    private readonly Lock _gate = new();
    private readonly List<LogEntry> _entries = [];
    private readonly List<(Func<LogEntry, bool> Match, TaskCompletionSource<LogEntry> Done)> _waiters = [];

    public IReadOnlyList<LogEntry> Entries
    {
        get
        {
            lock (_gate)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        var properties = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
        var entry = new LogEntry(logLevel, formatter(state, exception),
            properties.ToDictionary(p => p.Key, p => p.Value));
        lock (_gate)
        {
            _entries.Add(entry);
            foreach (var waiter in _waiters.Where(w => w.Match(entry)).ToList())
            {
                waiter.Done.TrySetResult(entry);
                _waiters.Remove(waiter);
            }
        }
    }

    public async Task<LogEntry> WaitForAsync(Func<LogEntry, bool> match)
    {
        TaskCompletionSource<LogEntry> done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            LogEntry? existing = _entries.FirstOrDefault(match);
            if (existing is not null)
            {
                return existing;
            }

            _waiters.Add((match, done));
        }

        return await done.Task.WaitAsync(FrameCollector.Patience);
    }

    public sealed record LogEntry(LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Properties)
    {
        public string Template => Properties.TryGetValue("{OriginalFormat}", out object? f) ? f as string ?? "" : "";
    }
}
