using System.Security.Cryptography;

namespace SipCallPark.Pool.Admin.WebConsole;

/// <summary>
/// One-time tickets for the console's event streams. A browser's EventSource cannot send an Authorization header, so
/// the page trades its token for a ticket (<c>POST /console/tickets</c>, token in the header) and opens
/// <c>/events?ticket=…</c> at once. A ticket opens one stream, within <see cref="Lifetime"/>; a leaked URL (history,
/// a proxy's log) is worth nothing after that. At most <see cref="MaxOutstanding"/> are open; the oldest give way.
/// </summary>
public sealed class ConsoleTickets(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    public const int MaxOutstanding = 64;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, DateTimeOffset> _open = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    public string Issue()
    {
        var ticket = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = time.GetUtcNow();
        lock (_gate)
        {
            // Tickets share one lifetime, so the queue is in expiry order: spent and expired ones leave from its head.
            while (_order.TryPeek(out var head) && (!_open.TryGetValue(head, out var due) || due < now))
            {
                _order.Dequeue();
                _open.Remove(head);
            }
            while (_open.Count >= MaxOutstanding && _order.TryDequeue(out var oldest)) _open.Remove(oldest);
            _open[ticket] = now + Lifetime;
            _order.Enqueue(ticket);
        }
        return ticket;
    }

    /// <summary>True once for a ticket issued here and not expired; it is spent either way.</summary>
    public bool Redeem(string? ticket)
    {
        if (string.IsNullOrEmpty(ticket) || ticket.Length > 64) return false;
        lock (_gate)
        {
            if (!_open.Remove(ticket, out var expires)) return false;
            return time.GetUtcNow() <= expires;
        }
    }
}
