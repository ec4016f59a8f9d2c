using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transport;

/// <summary>
/// The handler a test gives a <see cref="SipMessageTransport"/>: records each message, lets the test wait (with a
/// timeout) for the n-th one, then runs <see cref="Then"/> (answer it, throw...).
/// </summary>
internal sealed class MessageCollector
{
    private readonly Lock _gate = new();
    private readonly List<IncomingMessage> _messages = [];
    private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];

    public Func<IncomingMessage, ValueTask>? Then { get; set; }

    public IReadOnlyList<IncomingMessage> Messages
    {
        get
        {
            lock (_gate)
            {
                return [.. _messages];
            }
        }
    }

    public async ValueTask OnMessageAsync(IncomingMessage message)
    {
        lock (_gate)
        {
            _messages.Add(message);
            foreach (var waiter in _waiters.Where(w => _messages.Count >= w.Count).ToList())
            {
                waiter.Done.TrySetResult();
                _waiters.Remove(waiter);
            }
        }

        if (Then is { } then)
        {
            await then(message);
        }
    }

    public async Task<IReadOnlyList<IncomingMessage>> WaitForAsync(int count)
    {
        TaskCompletionSource done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_messages.Count >= count)
            {
                return [.. _messages];
            }

            _waiters.Add((count, done));
        }

        try
        {
            await done.Task.WaitAsync(FrameCollector.Patience);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Expected {count} messages within {FrameCollector.Patience}, got {Messages.Count}.");
        }

        return Messages;
    }
}
