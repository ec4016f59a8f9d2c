using SipCallPark.Pool.Topology;

namespace SipCallPark.Pool.Park;

public enum OrbitAssignment { Lowest, Random }

/// <summary>
/// Hands out orbits of a pool's ranges, never one orbit to two calls. <c>Lowest</c> takes the first free orbit,
/// <c>Random</c> (Lync's way) a free one at random from the injected source. Thread-safe.
/// </summary>
/// <remarks>
/// Orbits are kept as positions (0 … <see cref="Capacity"/>−1, the ranges laid end to end) so that picking one costs
/// no string per candidate: a range may hold millions of numbers. Only the orbit handed out is formatted.
/// </remarks>
public sealed class OrbitAllocator
{
    // Random picks this many positions before it falls back to counting the free ones; each miss is as likely as the
    // pool is full, so the fallback runs only for a pool that is almost full.
    private const int RandomProbes = 32;

    private readonly IReadOnlyList<OrbitRange> _ranges;
    private readonly long[] _rangeStarts;
    private readonly OrbitAssignment _assignment;
    private readonly Random _random;
    private readonly HashSet<long> _taken = [];
    private readonly Lock _lock = new();

    public OrbitAllocator(IReadOnlyList<OrbitRange> ranges, OrbitAssignment assignment, Random random)
    {
        _ranges = ranges;
        _assignment = assignment;
        _random = random;
        _rangeStarts = new long[ranges.Count];
        long start = 0;
        for (var i = 0; i < ranges.Count; i++)
        {
            _rangeStarts[i] = start;
            start += ranges[i].Size;
        }
        Capacity = start;
    }

    public long Capacity { get; }

    public int InUse
    {
        get { lock (_lock) return _taken.Count; }
    }

    public bool Owns(string orbit) => PositionOf(orbit) >= 0;

    /// <summary>Takes a free orbit; false when every orbit is in use.</summary>
    public bool TryAllocate(out string orbit)
    {
        long position;
        lock (_lock)
        {
            orbit = "";
            var free = Capacity - _taken.Count;
            if (free <= 0) return false;
            position = _assignment == OrbitAssignment.Random ? PickRandom(free) : FirstFree();
            _taken.Add(position);
        }
        orbit = OrbitAt(position);
        return true;
    }

    /// <summary>Takes a specific orbit (directed park); false when it is not ours or already taken.</summary>
    public bool TryTake(string orbit)
    {
        var position = PositionOf(orbit);
        if (position < 0) return false;
        lock (_lock) return _taken.Add(position);
    }

    public void Release(string orbit)
    {
        var position = PositionOf(orbit);
        if (position < 0) return;
        lock (_lock) _taken.Remove(position);
    }

    public bool IsTaken(string orbit)
    {
        var position = PositionOf(orbit);
        if (position < 0) return false;
        lock (_lock) return _taken.Contains(position);
    }

    // Uniform over the free orbits: a probe that lands on a free position is as likely for each of them, and the
    // fallback takes the n-th free one.
    private long PickRandom(long free)
    {
        for (var i = 0; i < RandomProbes; i++)
        {
            var position = _random.NextInt64(Capacity);
            if (!_taken.Contains(position)) return position;
        }
        var skip = _random.NextInt64(free);
        for (long position = 0; ; position++)
        {
            if (_taken.Contains(position)) continue;
            if (skip-- == 0) return position;
        }
    }

    private long FirstFree()
    {
        long position = 0;
        while (_taken.Contains(position)) position++;
        return position;
    }

    private string OrbitAt(long position)
    {
        var range = _rangeStarts.Length - 1;
        while (_rangeStarts[range] > position) range--;
        return _ranges[range].At(position - _rangeStarts[range]);
    }

    private long PositionOf(string orbit)
    {
        for (var i = 0; i < _ranges.Count; i++)
        {
            var offset = _ranges[i].OffsetOf(orbit);
            if (offset >= 0) return _rangeStarts[i] + offset;
        }
        return -1;
    }
}
