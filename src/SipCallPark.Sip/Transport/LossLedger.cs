using System.Text;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// Counts what a lossy link did to SIP traffic, per message: a message is keyed by direction, its start line (method
/// or status code), the top Via branch and the CSeq, so a retransmission (RFC 3261 §17: the same request with the
/// same branch, or the same response re-sent) has the key of the original. From that it tells how many messages
/// were lost, how many were seen again, and how many lost ones were delivered later by a retransmission — the
/// proof that the retransmission timers, not luck, carried a flow through the loss. Thread-safe.
/// </summary>
public sealed class LossLedger
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _seen = [];
    private readonly HashSet<string> _lost = [];
    private readonly HashSet<string> _recovered = [];
    private long _datagrams;
    private long _droppedRequests;
    private long _droppedResponses;
    private long _repeats;

    /// <summary>Datagrams that reached the link.</summary>
    public long Datagrams { get { lock (_gate) return _datagrams; } }

    public long DroppedRequests { get { lock (_gate) return _droppedRequests; } }

    public long DroppedResponses { get { lock (_gate) return _droppedResponses; } }

    public long Dropped { get { lock (_gate) return _droppedRequests + _droppedResponses; } }

    /// <summary>Datagrams whose key had been seen before: retransmissions (and re-sent responses).</summary>
    public long Retransmissions { get { lock (_gate) return _repeats; } }

    /// <summary>Distinct messages that were lost at least once and later went through.</summary>
    public long Recovered { get { lock (_gate) return _recovered.Count; } }

    /// <summary>Distinct messages lost every time they were sent (so far).</summary>
    public long NeverDelivered { get { lock (_gate) return _lost.Except(_recovered).Count(); } }

    /// <summary>The keys of the messages recovered by a retransmission, e.g. <c>out INVITE z9hG4bK.. 1</c>.</summary>
    public IReadOnlyList<string> RecoveredKeys { get { lock (_gate) return [.. _recovered]; } }

    /// <summary>Notes one datagram and its fate; <paramref name="direction"/> is a free label (e.g. "out", "in").</summary>
    public void Record(string direction, ReadOnlySpan<byte> datagram, bool dropped)
    {
        var (key, isRequest) = KeyOf(direction, datagram);
        lock (_gate)
        {
            _datagrams++;
            if (key is null) return;
            if (!_seen.Add(key)) _repeats++;
            if (dropped)
            {
                if (isRequest) _droppedRequests++;
                else _droppedResponses++;
                _lost.Add(key);
            }
            else if (_lost.Contains(key))
            {
                _recovered.Add(key);
            }
        }
    }

    public override string ToString() =>
        $"{Datagrams} datagrams, {Dropped} dropped ({DroppedRequests} requests, {DroppedResponses} responses), " +
        $"{Retransmissions} retransmissions, {Recovered} lost messages recovered by retransmission, {NeverDelivered} never delivered";

    // Only the start line, the top Via and the CSeq are read: a cheap scan, not a parse, so any datagram is accepted.
    private static (string? Key, bool IsRequest) KeyOf(string direction, ReadOnlySpan<byte> datagram)
    {
        string text = Encoding.UTF8.GetString(datagram[..Math.Min(datagram.Length, 4096)]);
        int headersEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (headersEnd >= 0) text = text[..headersEnd];
        string[] lines = text.Split("\r\n");
        if (lines.Length == 0 || lines[0].Length == 0) return (null, false);
        string[] start = lines[0].Split(' ');
        bool isRequest = !lines[0].StartsWith("SIP/", StringComparison.Ordinal);
        if (start.Length < 2) return (null, isRequest);
        string kind = isRequest ? start[0] : start[1];
        string? branch = null;
        string? cseq = null;
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon <= 0) continue;
            string name = line[..colon].Trim();
            string value = line[(colon + 1)..].Trim();
            if (branch is null && (name.Equals("Via", StringComparison.OrdinalIgnoreCase) || name == "v"))
            {
                int at = value.IndexOf("branch=", StringComparison.OrdinalIgnoreCase);
                if (at >= 0) branch = value[(at + 7)..].Split(';', ',', ' ')[0];
            }
            else if (cseq is null && name.Equals("CSeq", StringComparison.OrdinalIgnoreCase))
            {
                cseq = value;
            }
        }

        return ($"{direction} {kind} {branch} {cseq}", isRequest);
    }
}
