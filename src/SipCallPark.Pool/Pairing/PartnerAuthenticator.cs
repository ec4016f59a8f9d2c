using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Proxy;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Pairing;

/// <summary>
/// Signs what this pool sends its partner and checks what claims to come from it (docs/design.md §11 "Trust"). The
/// HMAC-SHA256, keyed by <see cref="PartnerOptions.Secret"/>, covers the kind of message, the signing pool, a
/// timestamp, a random nonce and — for SIP — the method, Call-ID, CSeq (and status code of a response), for HTTP the
/// method and path, and always the SHA-256 of the body. A message is the partner's only when the signature matches,
/// the timestamp is within the clock skew and the nonce was not taken before; everything else is a user's.
/// A SIP request is judged once: the verdict is kept with the message, so the dispatcher and the router agree.
/// </summary>
public sealed class PartnerAuthenticator : IPartnerSigner
{
    private readonly string _self;
    private readonly PoolTopology _topology;
    private readonly PartnerOptions _options;
    private readonly byte[]? _key;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ReplayWindow _replays;
    private readonly ConditionalWeakTable<SipMessage, StrongBox<PartnerVerdict>> _judged = [];

    public PartnerAuthenticator(string self, PoolTopology topology, PartnerOptions options, TimeProvider time, ILogger<PartnerAuthenticator> logger)
    {
        _self = self;
        _topology = topology;
        _options = options;
        _key = options.Secret is { } secret ? Encoding.UTF8.GetBytes(secret.Trim()) : null;
        _time = time;
        _logger = logger;
        _replays = new ReplayWindow(options.MaxRemembered);
    }

    /// <summary>False when no secret is configured: nothing is signed and nothing is taken for the partner's.</summary>
    public bool HasSecret => _key is not null;

    /// <summary>Nonces held in the replay window now.</summary>
    public int Remembered => _replays.Count;

    /// <summary>Puts this pool's signature on a request to the partner (any earlier <c>X-Pool-Auth</c> removed).</summary>
    public void Sign(SipRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Headers.Remove(PoolAuthHeader.Name);
        if (_key is null) return;
        request.Headers.Add(PoolAuthHeader.Name, NewHeader("sip-request", Fields(request), request.Body.Span).ToString());
    }

    /// <summary>Puts this pool's signature on an answer to the partner.</summary>
    public void Sign(SipResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.Headers.Remove(PoolAuthHeader.Name);
        if (_key is null) return;
        response.Headers.Add(PoolAuthHeader.Name, NewHeader("sip-response", Fields(response), response.Body.Span).ToString());
    }

    public void PrepareForward(SipRequest copy, bool toPartner)
    {
        ArgumentNullException.ThrowIfNull(copy);
        if (toPartner) Sign(copy);
        else copy.Headers.Remove(PoolAuthHeader.Name);
    }

    /// <summary>The <c>X-Pool-Auth</c> value for an HTTP request to the partner's admin API.</summary>
    public string? SignHttp(string method, string path, ReadOnlySpan<byte> body) =>
        _key is null ? null : NewHeader("http", [method.ToUpperInvariant(), path], body).ToString();

    /// <summary>True when <paramref name="request"/> is signed by the partner (judged once per message).</summary>
    public bool IsFromPartner(SipRequest request) => Verify(request) == PartnerVerdict.Valid;

    public PartnerVerdict Verify(SipRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Judge(request, () => Check("sip-request", request.Headers.Get(PoolAuthHeader.Name), Fields(request), request.Body.Span, out _));
    }

    /// <summary>Checks an answer that must come from <paramref name="expectedPool"/> (the pool this one probed).</summary>
    public PartnerVerdict Verify(SipResponse response, string expectedPool)
    {
        ArgumentNullException.ThrowIfNull(response);
        return Judge(response, () =>
        {
            var verdict = Check("sip-response", response.Headers.Get(PoolAuthHeader.Name), Fields(response), response.Body.Span, out var pool);
            return verdict == PartnerVerdict.Valid && !string.Equals(pool, expectedPool, StringComparison.OrdinalIgnoreCase)
                ? Refused(PartnerVerdict.UnknownPool, "sip-response", pool!)
                : verdict;
        });
    }

    /// <summary>Checks an HTTP request's <c>X-Pool-Auth</c>; <paramref name="pool"/> is the pool that signed it.</summary>
    public PartnerVerdict VerifyHttp(string? header, string method, string path, ReadOnlySpan<byte> body, out string? pool) =>
        Check("http", header, [method.ToUpperInvariant(), path], body, out pool);

    private PartnerVerdict Judge(SipMessage message, Func<PartnerVerdict> check)
    {
        if (_judged.TryGetValue(message, out var known)) return known.Value;
        var verdict = check();
        // Two threads may judge the same message at once: the first verdict stored wins (the second saw a "replay").
        return _judged.GetValue(message, _ => new StrongBox<PartnerVerdict>(verdict)).Value;
    }

    private static string[] Fields(SipRequest request) => [request.Method, request.CallId, request.CSeq.ToString()];

    /// <summary>A probe answer's claims are signed too: the DR phases it reports (docs/design.md §7).</summary>
    private static string[] Fields(SipResponse response) =>
        [response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture), response.CallId, response.CSeq.ToString(),
            response.Headers.Get(DrPhaseHeader)?.Trim() ?? ""];

    /// <summary>The header of an OPTIONS answer naming the DR phases the answering pool drives.</summary>
    public const string DrPhaseHeader = "X-DR-Phase";

    private PoolAuthHeader NewHeader(string kind, string[] fields, ReadOnlySpan<byte> body)
    {
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        return new PoolAuthHeader(_self, timestamp, nonce, Compute(kind, _self, timestamp, nonce, fields, body));
    }

    private PartnerVerdict Check(string kind, string? text, string[] fields, ReadOnlySpan<byte> body, out string? pool)
    {
        pool = null;
        if (text is null) return PartnerVerdict.Missing;
        if (_key is null) return PartnerVerdict.NoSecret;
        if (!PoolAuthHeader.TryParse(text, out var header)) return Refused(PartnerVerdict.Malformed, kind, "?");
        if (string.Equals(header.Pool, _self, StringComparison.OrdinalIgnoreCase) || _topology.FindPool(header.Pool) is null)
            return Refused(PartnerVerdict.UnknownPool, kind, header.Pool);
        var now = _time.GetUtcNow();
        if (Math.Abs(now.ToUnixTimeSeconds() - header.Timestamp) > (long)_options.MaxClockSkew.TotalSeconds)
            return Refused(PartnerVerdict.Skewed, kind, header.Pool);
        var expected = Encoding.ASCII.GetBytes(Compute(kind, header.Pool, header.Timestamp, header.Nonce, fields, body));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(header.Signature)))
            return Refused(PartnerVerdict.BadSignature, kind, header.Pool);
        var nowMs = now.ToUnixTimeMilliseconds();
        if (!_replays.TryRecord(header.Nonce, nowMs + 2 * (long)_options.MaxClockSkew.TotalMilliseconds, nowMs))
            return Refused(PartnerVerdict.Replayed, kind, header.Pool);
        pool = _topology.FindPool(header.Pool)!.Name;
        return PartnerVerdict.Valid;
    }

    /// <summary>Logs a refusal, at most one line per ten seconds (a flood of forged headers must not flood the log).</summary>
    private PartnerVerdict Refused(PartnerVerdict verdict, string kind, string pool)
    {
        var now = _time.GetTimestamp();
        long suppressed;
        lock (_warningLock)
        {
            if (_lastWarning is { } last && _time.GetElapsedTime(last, now) < WarningInterval)
            {
                _suppressed++;
                return verdict;
            }
            suppressed = _suppressed;
            _suppressed = 0;
            _lastWarning = now;
        }
        _logger.LogWarning("Refused a {Kind} signed as pool {ClaimedPool}: {Verdict} ({Suppressed} more refusals not logged before this one)",
            kind, pool.Length > 64 ? pool[..64] : pool, verdict, suppressed);
        return verdict;
    }

    private static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(10);
    private readonly Lock _warningLock = new();
    private long? _lastWarning;
    private long _suppressed;

    /// <summary>HMAC-SHA256 over one line per field; base64url without padding.</summary>
    private string Compute(string kind, string pool, long timestamp, string nonce, string[] fields, ReadOnlySpan<byte> body)
    {
        var text = new StringBuilder("v1\n").Append(kind).Append('\n').Append(pool.ToLowerInvariant()).Append('\n')
            .Append(timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\n').Append(nonce).Append('\n');
        foreach (var field in fields) text.Append(field.Replace('\n', ' ')).Append('\n');
        text.Append(Convert.ToHexStringLower(SHA256.HashData(body)));
        var mac = HMACSHA256.HashData(_key!, Encoding.UTF8.GetBytes(text.ToString()));
        return Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
