using SipCallPark.Pool.Topology;

namespace SipCallPark.Pool.Park;

public enum OrbitAssignment { Lowest, Random }

/// <summary>
/// Hands out orbits of a pool's ranges, never one orbit to two calls. <c>Lowest</c> takes the first free orbit,
/// <c>Random</c> (Lync's way) a free one at random from the injected source. Thread-safe.
/// </summary>
public sealed class OrbitAllocator
{
    private readonly IReadOnlyList<OrbitRange> _ranges;
    private readonly OrbitAssignment _assignment;
    private readonly Random _random;
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public OrbitAllocator(IReadOnlyList<OrbitRange> ranges, OrbitAssignment assignment, Random random)
    {
        _ranges = ranges;
        _assignment = assignment;
        _random = random;
    }

    public long Capacity => _ranges.Sum(r => r.Size);

    public int InUse
    {
        get { lock (_lock) return _taken.Count; }
    }

    public bool Owns(string orbit) => _ranges.Any(r => r.Contains(orbit));

    /// <summary>Takes a free orbit; false when every orbit is in use.</summary>
    public bool TryAllocate(out string orbit)
    {
        lock (_lock)
        {
            orbit = "";
            var free = Capacity - _taken.Count;
            if (free <= 0) return false;
            // Random: pick the n-th free orbit; Lowest: the first.
            var skip = _assignment == OrbitAssignment.Random ? _random.NextInt64(free) : 0;
            foreach (var range in _ranges)
            {
                for (long i = 0; i < range.Size; i++)
                {
                    var candidate = range.At(i);
                    if (_taken.Contains(candidate)) continue;
                    if (skip-- > 0) continue;
                    _taken.Add(candidate);
                    orbit = candidate;
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>Takes a specific orbit (directed park); false when it is not ours or already taken.</summary>
    public bool TryTake(string orbit)
    {
        if (!Owns(orbit)) return false;
        lock (_lock) return _taken.Add(orbit);
    }

    public void Release(string orbit)
    {
        lock (_lock) _taken.Remove(orbit);
    }

    public bool IsTaken(string orbit)
    {
        lock (_lock) return _taken.Contains(orbit);
    }
}
