using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Park;

/// <summary>A park refused while the parker is in resiliency mode keeps the call (docs/design.md §7).</summary>
internal sealed partial class ParkApplication
{
    /// <summary>The MESSAGE text a parker gets when its park was refused in resiliency mode.</summary>
    public const string ResiliencyParkMessage = "Call park is unavailable in resiliency mode: the call stays with you";

    /// <summary>
    /// Way 1 in resiliency mode: the REFER is accepted (202, with the Warning) and its subscription ended at once by a
    /// NOTIFY whose sipfrag is <c>100 Trying</c> plus the Warning (RFC 3515 §2.4.4), then the parker gets a MESSAGE
    /// saying why. A 403, or a NOTIFY reporting a failure, makes phones such as baresip 1.0 hang up the call they
    /// meant to park; the seed's "the call stays up, it cannot be parked" needs a refusal no phone reads as a failed
    /// transfer. Nothing is INVITEd, no orbit is taken.
    /// </summary>
    private async Task RefuseKeepingCallAsync(IncomingRefer refer, SipUri parker)
    {
        var warning = Warning(Proxy.ProxyRouter.ResiliencyParkRefusal);
        var notifier = await refer.AcceptAsync(r => r.Headers.Add(HeaderNames.Warning, warning)).ConfigureAwait(false);
        await notifier.EndAsync(warning).ConfigureAwait(false);
        _logger.LogInformation("Park REFER {CallId} from {Parker} refused in resiliency mode: 202, subscription ended, the call stays",
            refer.Request.CallId, parker);
        await TellParkRefusedAsync(parker).ConfigureAwait(false);
    }

    /// <summary>Tells a parker (its address of record) that its park was refused in resiliency mode: a MESSAGE from the park service.</summary>
    public Task TellParkRefusedAsync(SipUri parker) => TellAsync(parker.WithoutHeaders(), null, ResiliencyParkMessage);
}
