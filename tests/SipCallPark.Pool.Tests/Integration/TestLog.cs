using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>
/// Collects every log line of a test's pools and phones in memory, so that a failed test can print what the pools
/// decided (the lines are only written out on failure).
/// </summary>
internal sealed class TestLog : ILoggerFactory, ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly DateTimeOffset _start = DateTimeOffset.UtcNow;

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private void Write(string category, LogLevel level, string message, Exception? exception)
    {
        var at = (DateTimeOffset.UtcNow - _start).TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);
        _lines.Enqueue($"{at,6} ms {level,-11} {category}: {message}{(exception is null ? "" : " | " + exception)}");
    }

    private sealed class Logger(TestLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) log.Write(category, logLevel, formatter(state, exception), exception);
        }
    }
}
