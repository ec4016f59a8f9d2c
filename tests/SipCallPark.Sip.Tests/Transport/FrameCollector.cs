using System.Text;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transport;

/// <summary>An onFrame handler that records frames and lets a test wait, with a timeout, for the n-th one.</summary>
internal sealed class FrameCollector
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private readonly List<ReceivedFrame> _frames = [];
    private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];

    public IReadOnlyList<ReceivedFrame> Frames
    {
        get
        {
            lock (_gate)
            {
                return [.. _frames];
            }
        }
    }

    public IReadOnlyList<string> Texts => Frames.Select(f => Encoding.ASCII.GetString(f.Data.Span)).ToList();

    public ValueTask OnFrame(ReceivedFrame frame)
    {
        lock (_gate)
        {
            _frames.Add(frame);
            foreach (var waiter in _waiters.Where(w => _frames.Count >= w.Count).ToList())
            {
                waiter.Done.TrySetResult();
                _waiters.Remove(waiter);
            }
        }

        return ValueTask.CompletedTask;
    }

    public async Task<IReadOnlyList<ReceivedFrame>> WaitForAsync(int count)
    {
        if (!await TryWaitForAsync(count, Patience))
        {
            Assert.Fail($"Expected {count} frames within {Patience}, got {Frames.Count}.");
        }

        return Frames;
    }

    /// <summary>False when fewer than <paramref name="count"/> frames arrived within <paramref name="timeout"/>.</summary>
    public async Task<bool> TryWaitForAsync(int count, TimeSpan timeout)
    {
        TaskCompletionSource done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_frames.Count >= count)
            {
                return true;
            }

            _waiters.Add((count, done));
        }

        try
        {
            await done.Task.WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
