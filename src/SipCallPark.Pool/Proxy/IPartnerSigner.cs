using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Proxy;

/// <summary>The paired pools' signature on what the proxy forwards (docs/design.md §11 "Trust").</summary>
public interface IPartnerSigner
{
    /// <summary>
    /// Readies a forwarded copy: a signature it carried in is always removed (it vouched for the hop before, not
    /// for us), and when <paramref name="toPartner"/> this pool signs it, so the partner takes it as ours.
    /// </summary>
    void PrepareForward(SipRequest copy, bool toPartner);
}
