namespace SipCallPark.Pool.Pairing;

/// <summary>
/// The nonces of signed messages already taken, each kept until its timestamp falls out of the clock-skew window (a
/// replay older than that is refused by its timestamp anyway). Bounded: when <c>max</c> nonces are held, new ones are
/// refused rather than the memory growing.
/// </summary>
internal sealed class ReplayWindow(int max)
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Queue<(long ForgetAt, string Nonce)> _byAge = new();

    public int Count
    {
        get
        {
            lock (_lock) return _seen.Count;
        }
    }

    /// <summary>Records <paramref name="nonce"/>; false when it was seen before or the window is full.</summary>
    public bool TryRecord(string nonce, long forgetAt, long now)
    {
        lock (_lock)
        {
            while (_byAge.TryPeek(out var oldest) && oldest.ForgetAt < now)
            {
                _byAge.Dequeue();
                _seen.Remove(oldest.Nonce);
            }
            if (_seen.Count >= max || !_seen.Add(nonce)) return false;
            _byAge.Enqueue((forgetAt, nonce));
            return true;
        }
    }
}
