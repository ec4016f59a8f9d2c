namespace SipCallPark.Sip.Transport;

/// <summary>
/// A token bucket for log lines that anyone on the network can cause: one line per rejected or dropped message is
/// what an operator debugging a phone wants, but a flood of broken datagrams must not turn into a flood of log
/// lines (CPU and disk). Lines over the budget are counted, and the next line that fits reports how many were left
/// out. Time comes from the injected <see cref="TimeProvider"/>.
/// </summary>
internal sealed class LogBudget
{
    private readonly int _perSecond;
    private readonly int _burst;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private double _tokens;
    private long _updated;
    private long _suppressed;

    public LogBudget(int perSecond, int burst, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        _perSecond = perSecond;
        _burst = burst;
        _time = time;
        _tokens = burst;
        _updated = time.GetTimestamp();
    }

    public int PerSecond => _perSecond;

    /// <summary>
    /// True when one more line may be written; <paramref name="suppressed"/> is then the number of lines left out
    /// since the last one written (to be reported first). False when the budget is spent: the line is counted.
    /// </summary>
    public bool TryTake(out long suppressed)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            _tokens = Math.Min(_burst, _tokens + _time.GetElapsedTime(_updated, now).TotalSeconds * _perSecond);
            _updated = now;
            if (_tokens < 1)
            {
                _suppressed++;
                suppressed = 0;
                return false;
            }
            _tokens -= 1;
            suppressed = _suppressed;
            _suppressed = 0;
            return true;
        }
    }
}
