using System.Collections.Concurrent;
using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Dialogs;

/// <summary>What a Replaces header found (RFC 3891 §3) and the response it calls for when it found nothing usable.</summary>
public enum ReplacesMatch
{
    /// <summary>A dialog to replace.</summary>
    Found,
    /// <summary>No such dialog, or an early dialog this side did not start: 481.</summary>
    NotFound,
    /// <summary><c>early-only</c> but the dialog is confirmed: 486.</summary>
    AlreadyConfirmed,
    /// <summary>The dialog has ended: 603.</summary>
    Terminated,
}

/// <summary>
/// Every dialog of one user agent, keyed by (Call-ID, local tag, remote tag). Adding a dialog that exists fails:
/// each dialog has exactly one owner. In-dialog requests that match nothing get 481 from the caller.
/// </summary>
public sealed class DialogTable
{
    private readonly ConcurrentDictionary<DialogId, Dialog> _dialogs = new();

    public int Count => _dialogs.Count;

    public IEnumerable<Dialog> All => _dialogs.Values;

    public bool TryAdd(Dialog dialog) => _dialogs.TryAdd(dialog.Id, dialog);

    public bool TryRemove(DialogId id, out Dialog? dialog) => _dialogs.TryRemove(id, out dialog);

    public bool TryGet(DialogId id, out Dialog? dialog) => _dialogs.TryGetValue(id, out dialog);

    /// <summary>The dialog an incoming request belongs to: its To tag is our local tag, its From tag the remote one.</summary>
    public Dialog? FindForIncoming(SipRequest request)
    {
        var local = request.To.Tag;
        if (local is null) return null;
        return _dialogs.TryGetValue(new DialogId(request.CallId, local, request.From.Tag ?? ""), out var d) ? d : null;
    }

    /// <summary>
    /// RFC 3891 §3: the dialog whose Call-ID matches, whose <em>local</em> tag equals the header's to-tag and whose
    /// <em>remote</em> tag equals its from-tag. An early dialog qualifies only when this side started it; with
    /// <c>early-only</c> a confirmed dialog does not.
    /// </summary>
    public ReplacesMatch FindForReplaces(ReplacesHeader replaces, out Dialog? dialog)
    {
        _dialogs.TryGetValue(new DialogId(replaces.CallId, replaces.ToTag, replaces.FromTag), out dialog);
        if (dialog is null) return ReplacesMatch.NotFound;
        switch (dialog.State)
        {
            case DialogState.Terminated:
                return ReplacesMatch.Terminated;
            case DialogState.Early when !dialog.IsUac:
                dialog = null;
                return ReplacesMatch.NotFound;
            case DialogState.Confirmed when replaces.EarlyOnly:
                return ReplacesMatch.AlreadyConfirmed;
            default:
                return ReplacesMatch.Found;
        }
    }
}
