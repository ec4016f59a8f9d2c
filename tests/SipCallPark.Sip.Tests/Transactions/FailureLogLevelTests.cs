using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Sip.Transactions;
using static SipCallPark.Sip.Tests.Transactions.TransactionHarness;

namespace SipCallPark.Sip.Tests.Transactions;

public class FailureLogLevelTests
{
    [TestCase(null, LogLevel.Information)]
    [TestCase(LogLevel.Debug, LogLevel.Debug)]
    public async Task A_transaction_logs_its_timeout_at_the_level_its_sender_asked_for_and_Information_by_default(LogLevel? asked, LogLevel expected)
    {
        var time = new FakeTimeProvider();
        var log = new LevelLog();
        var layer = new SipTransactionLayer(new RecordingSender(time), new TransactionOptions(), time, log, new RecordingTransactionUser());
        var transaction = asked is { } level
            ? await layer.SendRequestAsync(Request("OPTIONS"), PeerEndPoint(), level)
            : await layer.SendRequestAsync(Request("OPTIONS"), PeerEndPoint());
        for (var i = 0; i < 330 && !transaction.Completion.IsCompleted; i++) time.Advance(TimeSpan.FromMilliseconds(100));

        Assert.That((await Within(transaction.Completion)).IsTimeout, Is.True);
        Assert.That(log.Lines.Where(l => l.Text.Contains("timed out")).Select(l => l.Level), Is.EqualTo(new[] { expected }));
    }

    private sealed class LevelLog : ILogger<SipTransactionLayer>
    {
        public List<(LogLevel Level, string Text)> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines) Lines.Add((logLevel, formatter(state, exception)));
        }
    }
}
