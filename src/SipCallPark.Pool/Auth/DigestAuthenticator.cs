using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Auth;

public enum DigestOutcome
{
    /// <summary>Valid credentials for <see cref="DigestResult.User"/>.</summary>
    Authenticated,
    /// <summary>No credentials for our realm: challenge (401/407).</summary>
    Missing,
    /// <summary>Right password, but an expired nonce or a nonce count already used: challenge again with a fresh
    /// nonce and <c>stale=true</c>.</summary>
    Stale,
    /// <summary>Wrong password, unknown user, or malformed credentials: 403.</summary>
    Rejected,
}

public readonly record struct DigestResult(DigestOutcome Outcome, string? User = null, string? Reason = null);

/// <summary>
/// Digest authentication (RFC 3261 §22.4, RFC 8760) with stateless nonces: a nonce carries its issue time and an
/// HMAC over it, so any nonce we made can be checked without a table, and an old one is answered with
/// <c>stale=true</c>. Nonce counts are remembered per nonce so a replayed request is challenged afresh, never accepted.
/// </summary>
public sealed class DigestAuthenticator
{
    private readonly DigestOptions _options;
    private readonly IUserDirectory _users;
    private readonly TimeProvider _time;
    private readonly byte[] _secret;
    private readonly ConcurrentDictionary<string, long> _lastNonceCount = new();

    private readonly Func<SipUri, bool> _isOwnAddress;

    /// <param name="isOwnAddress">Names this pool's own SIP address: a digest uri may name it instead of the
    /// Request-URI (sipp 3.6 writes <c>sip:pool-ip:port</c> there for every request it authenticates).</param>
    public DigestAuthenticator(DigestOptions options, IUserDirectory users, TimeProvider time, byte[]? secret = null,
        Func<SipUri, bool>? isOwnAddress = null)
    {
        _isOwnAddress = isOwnAddress ?? (_ => false);
        _options = options;
        _users = users;
        _time = time;
        _secret = secret ?? RandomNumberGenerator.GetBytes(32);
    }

    public string Realm => _options.Realm;

    /// <summary>One challenge per offered algorithm, strongest first (RFC 8760 §2.4).</summary>
    public IReadOnlyList<string> Challenges(bool stale = false)
    {
        var nonce = NewNonce();
        return _options.Algorithms.Select(a =>
            $"Digest realm=\"{_options.Realm}\", nonce=\"{nonce}\", algorithm={a}, qop=\"auth\"{(stale ? ", stale=true" : "")}").ToArray();
    }

    /// <summary>Adds the challenges to a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate).</summary>
    public void AddChallenges(SipResponse response, bool stale = false)
    {
        var header = response.StatusCode == 407 ? HeaderNames.ProxyAuthenticate : HeaderNames.WwwAuthenticate;
        foreach (var challenge in Challenges(stale)) response.Headers.Add(header, challenge);
    }

    /// <summary>Checks the request's credentials for our realm in <paramref name="headerName"/>.</summary>
    public DigestResult Verify(SipRequest request, string headerName)
    {
        AuthHeaderValue? credentials = null;
        foreach (var value in request.Headers.GetAll(headerName))
        {
            if (AuthHeaderValue.TryParse(value, out var parsed) && parsed.Scheme.Equals("Digest", StringComparison.OrdinalIgnoreCase)
                && string.Equals(parsed.Get("realm"), _options.Realm, StringComparison.Ordinal))
            {
                credentials = parsed;
                break;
            }
        }
        if (credentials is null) return new DigestResult(DigestOutcome.Missing);

        var username = credentials.Get("username");
        var nonce = credentials.Get("nonce");
        var uri = credentials.Get("uri");
        var response = credentials.Get("response");
        var algorithm = DigestAlgorithm.Normalize(credentials.Get("algorithm"));
        if (username is null || nonce is null || uri is null || response is null)
            return new DigestResult(DigestOutcome.Rejected, username, "incomplete credentials");
        if (algorithm is null || !_options.Algorithms.Contains(algorithm))
            return new DigestResult(DigestOutcome.Rejected, username, "unsupported algorithm");
        var user = _users.Find(username);
        if (user is null) return new DigestResult(DigestOutcome.Rejected, username, "unknown user");
        var ha1 = Ha1(user, algorithm);
        if (ha1 is null) return new DigestResult(DigestOutcome.Rejected, username, $"no secret for {algorithm}");

        var qop = credentials.Get("qop");
        var nc = credentials.Get("nc");
        var cnonce = credentials.Get("cnonce");
        if (qop is null && !_options.AllowRfc2069) return new DigestResult(DigestOutcome.Rejected, username, "no qop (RFC 2069 digest is not accepted)");
        if (qop is not null && !string.Equals(qop, "auth", StringComparison.OrdinalIgnoreCase))
            return new DigestResult(DigestOutcome.Rejected, username, $"unsupported qop {qop}");
        // RFC 3261 §22.4: the digest-uri is the Request-URI; a response computed for another target proves nothing
        // here. This pool's own address (no user) is taken too: it is where the phone sends, and sipp writes it.
        if (!SameUri(uri, request.RequestUri) && !NamesThisPool(uri)) return new DigestResult(DigestOutcome.Rejected, username, "digest uri differs from the Request-URI");
        var ha2 = DigestAlgorithm.Hash(algorithm, $"{request.Method}:{uri}");
        var expected = qop is null
            ? DigestAlgorithm.Hash(algorithm, $"{ha1}:{nonce}:{ha2}")
            : DigestAlgorithm.Hash(algorithm, $"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}");
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(response.ToLowerInvariant())))
            return new DigestResult(DigestOutcome.Rejected, username, "wrong password");

        switch (CheckNonce(nonce))
        {
            case NonceState.Foreign:
                return new DigestResult(DigestOutcome.Stale, username, "nonce not issued here");
            case NonceState.Expired:
                return new DigestResult(DigestOutcome.Stale, username, "nonce expired");
        }
        long count = 1;
        if (qop is not null && !long.TryParse(nc, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out count))
            return new DigestResult(DigestOutcome.Rejected, username, "malformed nonce count");
        // A replay (or a retransmission the transaction layer did not absorb) proves nothing: answer it with a fresh
        // nonce, as for a stale one (RFC 7616 §3.4.5, RFC 3261 §22.4), so an honest phone simply retries. Without qop
        // there is no count: such a nonce serves once.
        if (!Advance(nonce, count)) return new DigestResult(DigestOutcome.Stale, username, "replayed nonce count");
        return new DigestResult(DigestOutcome.Authenticated, user.User);
    }

    /// <summary>The credentials' uri names the Request-URI: the same text, or the same URI by RFC 3261 §19.1.4.</summary>
    private static bool SameUri(string digestUri, SipUri requestUri) =>
        string.Equals(digestUri, requestUri.ToString(), StringComparison.Ordinal)
        || (SipUri.TryParse(digestUri, out var parsed) && parsed.Equals(requestUri));

    private bool NamesThisPool(string digestUri) => SipUri.TryParse(digestUri, out var parsed) && parsed.User is null && _isOwnAddress(parsed);

    private string? Ha1(LabUser user, string algorithm)
    {
        if (user.Password is { } password) return DigestAlgorithm.Hash(algorithm, $"{user.User}:{_options.Realm}:{password}");
        return algorithm == DigestAlgorithm.Sha256 ? user.Ha1Sha256 : user.Ha1Md5;
    }

    private bool Advance(string nonce, long count)
    {
        while (true)
        {
            if (!_lastNonceCount.TryGetValue(nonce, out var last))
            {
                if (_lastNonceCount.TryAdd(nonce, count)) break;
                continue;
            }
            if (count <= last) return false;
            if (_lastNonceCount.TryUpdate(nonce, count, last)) break;
        }
        if (_lastNonceCount.Count > 100_000) PruneCounts();
        return true;
    }

    private void PruneCounts()
    {
        foreach (var nonce in _lastNonceCount.Keys)
        {
            if (CheckNonce(nonce) != NonceState.Valid) _lastNonceCount.TryRemove(nonce, out _);
        }
    }

    private enum NonceState { Valid, Expired, Foreign }

    private string NewNonce()
    {
        var issued = _time.GetUtcNow().ToUnixTimeMilliseconds().ToString("x", CultureInfo.InvariantCulture);
        var salt = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        return $"{issued}.{salt}.{Sign(issued, salt)}";
    }

    private NonceState CheckNonce(string nonce)
    {
        var parts = nonce.Split('.');
        if (parts.Length != 3 || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(parts[0], parts[1])), Encoding.ASCII.GetBytes(parts[2])))
            return NonceState.Foreign;
        if (!long.TryParse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var ms)) return NonceState.Foreign;
        var age = _time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(ms);
        return age > _options.NonceLifetime || age < -TimeSpan.FromMinutes(1) ? NonceState.Expired : NonceState.Valid;
    }

    /// <summary>The nonce's signature covers the realm too: a nonce issued for one realm is foreign to any other.</summary>
    private string Sign(string issued, string salt) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes($"{_options.Realm}\n{issued}.{salt}")))[..24];
}
