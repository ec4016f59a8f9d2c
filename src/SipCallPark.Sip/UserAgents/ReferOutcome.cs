using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.UserAgents;

/// <summary>
/// How a REFER ended for its sender (RFC 3515): <see cref="ReferStatus"/> is the REFER's own final response;
/// when it was accepted, <see cref="StatusCode"/> is the final status the recipient reported in its last NOTIFY's
/// sipfrag (408 when no final NOTIFY came in time). <see cref="Progress"/> lists every sipfrag status seen.
/// </summary>
public sealed record ReferOutcome(int ReferStatus, int StatusCode, IReadOnlyList<int> Progress, SipResponse? ReferResponse)
{
    public bool Accepted => ReferStatus is >= 200 and < 300;

    public bool Succeeded => Accepted && StatusCode is >= 200 and < 300;
}
