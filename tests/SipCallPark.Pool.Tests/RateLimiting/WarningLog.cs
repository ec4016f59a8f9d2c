using Microsoft.Extensions.Logging;

namespace SipCallPark.Pool.Tests.RateLimiting;

/// <summary>Keeps the lines a component logs at Warning and above, formatted, for tests that count them.</summary>
internal sealed class WarningLog<T> : ILogger<T>
{
    public List<string> Lines { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel >= LogLevel.Warning) Lines.Add(formatter(state, exception));
    }
}
