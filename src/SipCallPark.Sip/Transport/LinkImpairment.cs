namespace SipCallPark.Sip.Transport;

/// <summary>
/// What one direction of a lossy link does to each datagram: drop it with <see cref="DropProbability"/>, else delay
/// it by a uniformly random 0..2×<see cref="Jitter"/> (so later datagrams can overtake earlier ones). Decisions come
/// from a <see cref="Random"/> seeded with <see cref="Seed"/> and are taken in the order datagrams reach the link:
/// the same datagrams through a fresh instance with the same seed meet the same fates.
/// </summary>
public sealed class LinkImpairment
{
    private readonly Random _random;
    private readonly Lock _gate = new();

    public LinkImpairment(double dropProbability, TimeSpan jitter, int seed)
    {
        if (double.IsNaN(dropProbability) || dropProbability is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(dropProbability), dropProbability, "Must be between 0 and 1.");
        }

        if (jitter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(jitter), jitter, "Must not be negative.");
        }

        DropProbability = dropProbability;
        Jitter = jitter;
        Seed = seed;
        _random = new Random(seed);
    }

    public double DropProbability { get; }

    public TimeSpan Jitter { get; }

    public int Seed { get; }

    /// <summary>
    /// The impairment of one direction of a link whose two directions share <paramref name="seed"/>: each direction
    /// gets its own sequence, derived from the seed, so traffic one way does not shift the fates of the other.
    /// </summary>
    public static LinkImpairment ForDirection(double dropProbability, TimeSpan jitter, int seed, LinkDirection direction) =>
        new(dropProbability, jitter, unchecked(seed * 31 + (int)direction + 1));

    /// <summary>The fate of the next datagram.</summary>
    public DatagramFate Next()
    {
        lock (_gate)
        {
            // Both draws are taken every time so one fate never depends on whether the previous one was a drop.
            bool drop = _random.NextDouble() < DropProbability;
            double spread = _random.NextDouble();
            return new DatagramFate(drop, drop ? TimeSpan.Zero : Jitter * 2 * spread);
        }
    }
}

/// <summary>One direction of a link, as seen from the end that is impaired (a phone, or the relay's client side).</summary>
public enum LinkDirection
{
    /// <summary>From the impaired end towards its peer (a phone's requests to the pool).</summary>
    Outbound,

    /// <summary>From the peer towards the impaired end (the pool's responses and requests to a phone).</summary>
    Inbound,
}

/// <summary>What happens to one datagram: lost, or delivered after <see cref="Delay"/>.</summary>
public readonly record struct DatagramFate(bool Dropped, TimeSpan Delay);
