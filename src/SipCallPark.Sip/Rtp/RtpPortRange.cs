namespace SipCallPark.Sip.Rtp;

/// <summary>
/// The even ports of a configured range, handed out round-robin so a just-released port rests before it is used
/// again. RTP takes the even port, RTCP the odd one above it (RFC 3550 §11); a range ending on an even port
/// cannot use that last port. Thread-safe.
/// </summary>
internal sealed class RtpPortRange
{
    private readonly Lock _lock = new();
    private readonly bool[] _inUse;
    private int _next;
    private int _count;

    public RtpPortRange(int first, int last)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(first, 1024);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(last, 65535);
        if (first % 2 != 0)
        {
            throw new ArgumentException($"the first RTP port must be even (was {first})", nameof(first));
        }

        if (last < first + 1)
        {
            throw new ArgumentException($"the range {first}-{last} holds no RTP/RTCP port pair", nameof(last));
        }

        First = first;
        Last = last;
        _inUse = new bool[(last - first + 1) / 2];
    }

    public int First { get; }

    public int Last { get; }

    /// <summary>How many RTP/RTCP pairs the range holds.</summary>
    public int Capacity => _inUse.Length;

    public int InUse
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Reads <c>first-last</c> as in <c>Park:MediaPorts</c>.</summary>
    public static RtpPortRange Parse(string text)
    {
        var parts = text.Split('-');
        if (parts.Length != 2 || !int.TryParse(parts[0], out var first) || !int.TryParse(parts[1], out var last))
        {
            throw new FormatException($"an RTP port range is first-last (was '{text}')");
        }

        return new RtpPortRange(first, last);
    }

    /// <summary>The next free even port, or a <see cref="RtpPortsExhaustedException"/> when every pair is taken.</summary>
    public int Acquire()
    {
        lock (_lock)
        {
            for (int tried = 0; tried < _inUse.Length; tried++)
            {
                int slot = _next;
                _next = (_next + 1) % _inUse.Length;
                if (!_inUse[slot])
                {
                    _inUse[slot] = true;
                    _count++;
                    return First + 2 * slot;
                }
            }

            throw new RtpPortsExhaustedException(First, Last, _inUse.Length);
        }
    }

    /// <summary>Gives a port back; releasing a port that is not in use does nothing.</summary>
    public void Release(int port)
    {
        int slot = (port - First) / 2;
        if (port < First || port % 2 != 0 || slot >= _inUse.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, $"not an RTP port of {First}-{Last}");
        }

        lock (_lock)
        {
            if (_inUse[slot])
            {
                _inUse[slot] = false;
                _count--;
            }
        }
    }

    public override string ToString() => $"{First}-{Last}";
}

/// <summary>Every RTP port pair of the media range is taken: too many parked calls for the configured range.</summary>
public sealed class RtpPortsExhaustedException(int first, int last, int capacity)
    : InvalidOperationException($"No free RTP port in {first}-{last}: all {capacity} port pairs are in use (widen Park:MediaPorts)");
