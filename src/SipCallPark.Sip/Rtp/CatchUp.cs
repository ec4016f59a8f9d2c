namespace SipCallPark.Sip.Rtp;

/// <summary>
/// What a stream does at a tick when the timer woke late: send what is due, but at most <c>maxBurst</c> packets;
/// older frames are skipped (the RTP timestamp still advances for them, the sequence number does not — RFC 3550
/// §5.1), so a stall becomes a short gap in the music rather than a flood at the phone's jitter buffer.
/// </summary>
internal readonly record struct CatchUp(long Skip, int Send)
{
    /// <param name="nextTick">The tick the stream's next frame belongs to.</param>
    /// <param name="currentTick">The tick that has just begun.</param>
    /// <param name="maxBurst">The most packets one stream sends at one wake-up.</param>
    public static CatchUp Plan(long nextTick, long currentTick, int maxBurst)
    {
        long due = currentTick - nextTick + 1;
        if (due <= 0)
        {
            return default;
        }

        return due <= maxBurst ? new CatchUp(0, (int)due) : new CatchUp(due - maxBurst, maxBurst);
    }
}
