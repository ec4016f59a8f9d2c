using System.Collections.Concurrent;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Proxy;

/// <summary>One call the pool proxied to a 2xx: its dialog identifiers, both parties' addresses of record and targets.</summary>
public sealed record ProxiedDialog(string CallId, string? CallerTag, string? CalleeTag, SipUri Caller, SipUri Callee,
    SipUri? CallerContact, SipUri? CalleeContact, DateTimeOffset Until)
{
    /// <summary>True for the two tags of this dialog, in either order (a Replaces names them from its recipient's side).</summary>
    public bool HasTags(string? a, string? b) =>
        (string.Equals(a, CallerTag, StringComparison.Ordinal) && string.Equals(b, CalleeTag, StringComparison.Ordinal))
        || (string.Equals(a, CalleeTag, StringComparison.Ordinal) && string.Equals(b, CallerTag, StringComparison.Ordinal));
}

/// <summary>
/// The calls that went through this pool's proxy (docs/design.md §11 "Trust"), kept for a while after their 2xx so the
/// park service can tell whether a REFER's Replaces names a dialog the REFERring user really is a party of. Bounded in
/// count (the oldest go first) and in age; nothing here is needed to carry a call, so losing it (a restart) only means
/// a park must name a registered contact instead.
/// </summary>
public sealed class ProxiedDialogs(TimeProvider time, int capacity = 100_000, TimeSpan? lifetime = null)
{
    private readonly ConcurrentDictionary<string, ProxiedDialog> _byCallId = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();
    private readonly ConcurrentDictionary<(string CallId, string Tag), long> _lastCSeq = new();
    private readonly TimeSpan _lifetime = lifetime ?? TimeSpan.FromHours(12);

    public int Count => _byCallId.Count;

    /// <summary>Notes the dialog an INVITE and its 2xx set up (the first 2xx of a Call-ID wins).</summary>
    public void Add(SipRequest invite, SipResponse success)
    {
        ArgumentNullException.ThrowIfNull(invite);
        ArgumentNullException.ThrowIfNull(success);
        if (invite.To.Tag is not null || success.To.Tag is null) return;
        var dialog = new ProxiedDialog(invite.CallId, invite.From.Tag, success.To.Tag, invite.From.Uri.WithoutHeaders(), invite.To.Uri.WithoutHeaders(),
            invite.Contacts.FirstOrDefault()?.Uri, success.Contacts.FirstOrDefault()?.Uri, time.GetUtcNow() + _lifetime);
        if (!_byCallId.TryAdd(invite.CallId, dialog)) return;
        if (invite.From.Tag is { } callerTag) _lastCSeq[(invite.CallId, callerTag)] = invite.CSeq.Number;
        _order.Enqueue(invite.CallId);
        Trim();
    }

    /// <summary>The dialog of <paramref name="callId"/> with these two tags (either order), while it is remembered.</summary>
    public ProxiedDialog? Find(string callId, string? tag1, string? tag2) =>
        _byCallId.TryGetValue(callId, out var dialog) && dialog.HasTags(tag1, tag2) && dialog.Until > time.GetUtcNow() ? dialog : null;

    /// <summary>
    /// Notes the CSeq of an in-dialog request passing the proxy, per sender (its From tag), for a remembered dialog:
    /// a request the pool itself sends in a party's name must not go below that party's numbering (RFC 3261 §12.2.2).
    /// </summary>
    public void NoteInDialog(SipRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        // Only the dialog's two parties are counted: a request with a made-up tag on a known Call-ID adds nothing (docs/design.md §11).
        if (request.Method is SipMethods.Ack or SipMethods.Cancel || request.From.Tag is not { } tag
            || !_byCallId.TryGetValue(request.CallId, out var dialog) || !dialog.HasTags(tag, request.To.Tag)) return;
        _lastCSeq.AddOrUpdate((request.CallId, tag), request.CSeq.Number, (_, last) => Math.Max(last, request.CSeq.Number));
    }

    /// <summary>The highest CSeq seen from the party with <paramref name="tag"/> in the dialog, or null when it sent none through here.</summary>
    public long? LastCSeq(string callId, string tag) => _lastCSeq.TryGetValue((callId, tag), out var number) ? number : null;

    private void Trim()
    {
        var now = time.GetUtcNow();
        // Bounded work per call: at most a few entries leave each time one comes in.
        for (var i = 0; i < 4 && _order.TryPeek(out var oldest); i++)
        {
            var expired = _byCallId.TryGetValue(oldest, out var dialog) && dialog.Until <= now;
            if (!expired && _byCallId.Count <= capacity) return;
            if (!_order.TryDequeue(out var gone) || !_byCallId.TryRemove(gone, out var removed)) continue;
            if (removed.CallerTag is { } a) _lastCSeq.TryRemove((gone, a), out _);
            if (removed.CalleeTag is { } b) _lastCSeq.TryRemove((gone, b), out _);
        }
    }
}
