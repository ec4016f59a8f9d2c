using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Proxy;

/// <summary>
/// One final outcome kept in a response context: a downstream response (our Via already removed), or a status the
/// proxy stands in for a branch that produced none (408 for a timeout or Timer C, 503 for a transport error).
/// </summary>
internal sealed record BranchOutcome(int StatusCode, SipResponse? Response);

/// <summary>The best-response rules of RFC 3261 §16.7 step 6 and the challenge merge of step 7.</summary>
internal static class BestResponse
{
    /// <summary>
    /// 6xx first; otherwise the lowest class. Inside a class, answers that let the caller retry differently win
    /// (401/407, then 415/420/484), then the ones that found the callee (486 Busy Here, 487, 480), then others by
    /// code, and last the ones that say least: 404, a 408 timeout, a 503. Ties keep the earliest.
    /// </summary>
    public static BranchOutcome Choose(IReadOnlyList<BranchOutcome> finals)
    {
        if (finals.Count == 0) throw new ArgumentException("A response context with no final response has nothing to choose", nameof(finals));
        var best = finals[0];
        for (var i = 1; i < finals.Count; i++)
        {
            if (Rank(finals[i].StatusCode).CompareTo(Rank(best.StatusCode)) < 0) best = finals[i];
        }
        return best;
    }

    /// <summary>Lower sorts first: (class order with 6xx on top, preference inside the class, the code itself).</summary>
    internal static (int ClassOrder, int Preference, int Code) Rank(int status)
    {
        var statusClass = status / 100;
        var preference = status switch
        {
            401 or 407 => 0,
            415 or 420 or 484 => 1,
            486 => 2,
            487 => 3,
            480 => 4,
            404 => 6,
            408 => 7,
            503 => 8,
            _ => 5,
        };
        return (statusClass == 6 ? 0 : statusClass, preference, status);
    }

    /// <summary>
    /// §16.7 step 7: a chosen 401 or 407 carries every WWW-Authenticate and Proxy-Authenticate value of the other
    /// 401 and 407 responses of the context, unmodified, so the caller can answer all challenges at once.
    /// </summary>
    public static SipResponse MergeChallenges(SipResponse chosen, IEnumerable<SipResponse> others)
    {
        var merged = ProxyMessages.Clone(chosen);
        foreach (var other in others)
        {
            if (ReferenceEquals(other, chosen) || other.StatusCode is not (401 or 407)) continue;
            foreach (var name in (string[])[HeaderNames.WwwAuthenticate, HeaderNames.ProxyAuthenticate])
            {
                foreach (var challenge in other.Headers.GetAll(name)) merged.Headers.Add(name, challenge);
            }
        }
        return merged;
    }
}
