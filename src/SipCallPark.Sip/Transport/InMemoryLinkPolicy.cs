namespace SipCallPark.Sip.Transport;

/// <summary>
/// How an <see cref="InMemoryNetwork"/> link misbehaves: frames are delayed by <see cref="Delay"/> (on the network's
/// <see cref="TimeProvider"/>) and, on unreliable (UDP-like) links, dropped with <see cref="DropProbability"/>.
/// Drops come from a <see cref="Random"/> seeded with <see cref="Seed"/> and are decided in send order, so the same
/// sends through a fresh policy with the same seed lose the same frames. One instance is one random sequence:
/// links that share an instance share the sequence.
/// </summary>
public sealed class InMemoryLinkPolicy
{
    private readonly Random _random;
    private readonly Lock _gate = new();

    public InMemoryLinkPolicy(double dropProbability = 0, TimeSpan delay = default, int seed = 0)
    {
        if (double.IsNaN(dropProbability) || dropProbability is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(dropProbability), dropProbability, "Must be between 0 and 1.");
        }

        if (delay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(delay), delay, "Must not be negative.");
        }

        DropProbability = dropProbability;
        Delay = delay;
        Seed = seed;
        _random = new Random(seed);
    }

    public double DropProbability { get; }

    public TimeSpan Delay { get; }

    public int Seed { get; }

    /// <summary>Decides the fate of the next unreliable frame. Reliable links never ask: streams do not lose frames.</summary>
    internal bool ShouldDrop()
    {
        if (DropProbability <= 0)
        {
            return false;
        }

        lock (_gate)
        {
            return _random.NextDouble() < DropProbability;
        }
    }
}
