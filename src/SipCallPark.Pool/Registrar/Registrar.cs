using System.Globalization;
using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Auth;
using SipCallPark.Pool.State;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Registrar;

/// <summary>
/// The registrar of RFC 3261 §10.3: authenticates, checks the address of record, applies the contacts (expiry by
/// parameter or header, <c>*</c>, Min-Expires/423, Call-ID/CSeq ordering, q, +sip.instance, reg-id) and answers 200
/// with every current binding. Home-pool rules come from <see cref="IHomePoolPolicy"/>.
/// </summary>
public sealed class Registrar
{
    public const string ModeHeader = "X-Registration-Mode";

    private readonly RegistrarOptions _options;
    private readonly IBindingStore _store;
    private readonly DigestAuthenticator _auth;
    private readonly IUserDirectory _users;
    private readonly ISipIdGenerator _ids;
    private readonly IHomePoolPolicy _policy;
    private readonly string _domain;
    private readonly string _pool;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<SipUri, bool> _isOwnAddress;

    public Registrar(RegistrarOptions options, IBindingStore store, DigestAuthenticator auth, IUserDirectory users, ISipIdGenerator ids,
        IHomePoolPolicy policy, string domain, string pool, TimeProvider time, ILogger<Registrar> logger,
        Func<SipUri, bool>? isOwnAddress = null)
    {
        _isOwnAddress = isOwnAddress ?? (_ => false);
        _options = options;
        _store = store;
        _auth = auth;
        _users = users;
        _ids = ids;
        _policy = policy;
        _domain = domain;
        _pool = pool;
        _time = time;
        _logger = logger;
    }

    public async Task<SipResponse> HandleAsync(SipRequest request, SipEndPoint source, CancellationToken cancellationToken = default)
    {
        // §10.3 step 1: only our domain, or this pool's own address: that is where a phone following a 301 from the
        // partner pool sends its REGISTER, since the 301's Contacts name pools by address.
        if (!request.RequestUri.IsSip
            || !(string.Equals(request.RequestUri.Host, _domain, StringComparison.OrdinalIgnoreCase) || _isOwnAddress(request.RequestUri)))
            return Reply(request, 403, $"not the registrar for {request.RequestUri.Host}");

        var aorUri = request.To.Uri;
        var user = aorUri.IsSip && string.Equals(aorUri.Host, _domain, StringComparison.OrdinalIgnoreCase) ? _users.Find(aorUri.UnescapedUser ?? "") : null;
        if (user is null)
        {
            // No user enumeration: the requester proves who it is first. An unknown name cannot, so it hears the same
            // challenge and the same 403 as a wrong password; only an authenticated user learns that the AoR is unknown.
            if (_options.RequireAuthentication && Challenge(request, out _) is { } refused) return refused;
            return Reply(request, 404, $"no user {aorUri.AddressOfRecord} in {_domain}");
        }

        // A user this pool does not serve now is redirected before any challenge: the 301 says no more than the 404
        // above does (who is homed where), and a phone that authenticated here and is then challenged by the pool it
        // was sent to may take the second 401 for failing credentials (liblinphone 5.1 stops its account so).
        var decision = _policy.Decide(user);
        if (decision is RegistrationDecision.Redirect redirect)
        {
            var moved = SipResponse.CreateFor(request, 301, toTag: ToTag());
            foreach (var (contact, q) in redirect.Targets) moved.Headers.Add(HeaderNames.Contact, $"<{contact}>;q={q.ToString("0.0##", CultureInfo.InvariantCulture)}");
            return moved;
        }

        if (_options.RequireAuthentication)
        {
            if (Challenge(request, out var authenticated) is { } refused) return refused;
            if (!string.Equals(authenticated, user.User, StringComparison.OrdinalIgnoreCase))
                return Reply(request, 403, $"{authenticated} may not register {user.User}");
        }

        var mode = ((RegistrationDecision.Serve)decision).Mode;
        var aor = $"sip:{user.User}@{_domain}".ToLowerInvariant();
        var now = _time.GetUtcNow();
        var current = _store.Get(aor, now).ToList();

        var contacts = request.Contacts;
        if (contacts.Count > 0)
        {
            if (contacts.Any(c => c.IsWildcard))
            {
                // §10.3 step 6: '*' only alone and with Expires: 0.
                if (contacts.Count != 1 || request.Expires != 0) return Reply(request, 400, "'*' needs to be the only contact, with Expires: 0");
                if (!Ordered(current, request)) return Reply(request, 500, "out-of-order REGISTER");
                current.Clear();
            }
            else
            {
                foreach (var contact in contacts)
                {
                    var expires = ExpiresOf(contact, request);
                    if (expires > 0 && expires < _options.MinExpires)
                    {
                        var tooBrief = SipResponse.CreateFor(request, 423, toTag: ToTag());
                        tooBrief.Headers.Add(HeaderNames.MinExpires, _options.MinExpires.ToString(CultureInfo.InvariantCulture));
                        return tooBrief;
                    }
                }
                if (!Ordered(current, request)) return Reply(request, 500, "out-of-order REGISTER");
                foreach (var contact in contacts) Apply(current, contact, request, source, mode, now);
                // docs/design.md §11: one user may not make one call fork without bound.
                if (current.Count > _options.MaxContactsPerAor)
                {
                    _logger.LogWarning("REGISTER for {Aor} refused: {Count} contacts, at most {Max}", aor, current.Count, _options.MaxContactsPerAor);
                    return Reply(request, 403, $"too many contacts for {aor}: at most {_options.MaxContactsPerAor}");
                }
            }
            await _store.SetAsync(aor, current, cancellationToken).ConfigureAwait(false);
            _logger.LogDebug("Registered {Aor}: {Count} binding(s), mode {Mode}", aor, current.Count, mode);
        }

        var ok = SipResponse.CreateFor(request, 200, toTag: ToTag());
        foreach (var b in current)
        {
            var value = $"<{b.Contact}>;expires={b.RemainingSeconds(now)}";
            if (b.Q != 1.0) value += $";q={b.Q.ToString("0.0##", CultureInfo.InvariantCulture)}";
            if (b.InstanceId is not null) value += $";+sip.instance={b.InstanceId}";
            if (b.RegId is not null) value += $";reg-id={b.RegId}";
            ok.Headers.Add(HeaderNames.Contact, value);
        }
        ok.Headers.Add(HeaderNames.Date, now.ToString("r", CultureInfo.InvariantCulture));
        AddMode(ok, mode);
        return ok;
    }

    /// <summary>
    /// 401 when the request carries no (or stale) credentials, 403 when they are wrong, null when they are good
    /// (<paramref name="user"/> then names who authenticated).
    /// </summary>
    private SipResponse? Challenge(SipRequest request, out string? user)
    {
        var result = _auth.Verify(request, HeaderNames.Authorization);
        user = result.User;
        switch (result.Outcome)
        {
            case DigestOutcome.Missing or DigestOutcome.Stale:
                var challenge = SipResponse.CreateFor(request, 401, toTag: ToTag());
                _auth.AddChallenges(challenge, result.Outcome == DigestOutcome.Stale);
                return challenge;
            case DigestOutcome.Rejected:
                _logger.LogInformation("REGISTER for {Aor} refused: {Reason}", request.To.Uri.AddressOfRecord, result.Reason);
                return Reply(request, 403, "authentication failed");
            default:
                return null;
        }
    }

    /// <summary>Marks a response with the registration mode (and, in resiliency mode, Lync's warning).</summary>
    public void AddMode(SipResponse response, RegistrationMode mode)
    {
        response.Headers.Add(ModeHeader, mode == RegistrationMode.Resiliency ? "resiliency" : "normal");
        if (mode == RegistrationMode.Resiliency)
            response.Headers.Add(HeaderNames.Warning, $"399 {_pool} \"Resiliency mode: limited functionality\"");
    }

    private void Apply(List<Binding> current, NameAddress contact, SipRequest request, SipEndPoint source, RegistrationMode mode, DateTimeOffset now)
    {
        var uri = contact.Uri.ToString();
        var instance = contact.Parameters.Get("+sip.instance");
        var regId = contact.Parameters.Get("reg-id");
        // RFC 5626 §6: a binding with the same instance and reg-id is the same flow, whatever its URI.
        current.RemoveAll(b => string.Equals(b.Contact, uri, StringComparison.Ordinal) ||
                               (instance is not null && b.InstanceId == instance && b.RegId == regId));
        var expires = Math.Min(ExpiresOf(contact, request), _options.MaxExpires);
        if (expires == 0) return;
        var q = double.TryParse(contact.Parameters.Get("q"), NumberStyles.Float, CultureInfo.InvariantCulture, out var qv) ? Math.Clamp(qv, 0, 1) : 1.0;
        current.Add(new Binding($"sip:{request.To.Uri.UnescapedUser}@{_domain}".ToLowerInvariant(), uri, now.AddSeconds(expires), q,
            request.CallId, request.CSeq.Number, instance, regId, source.ToString(), mode, _pool, NatTest.Detect(request, contact, source)));
    }

    private int ExpiresOf(NameAddress contact, SipRequest request)
    {
        if (long.TryParse(contact.Parameters.Get("expires"), NumberStyles.None, CultureInfo.InvariantCulture, out var p)) return (int)Math.Min(p, int.MaxValue);
        if (request.Expires is { } h) return (int)Math.Min(h, int.MaxValue);
        return _options.DefaultExpires;
    }

    /// <summary>§10.3 step 7: the same Call-ID with a CSeq not above the stored one is out of order.</summary>
    private static bool Ordered(List<Binding> current, SipRequest request) =>
        !current.Any(b => b.CallId == request.CallId && b.CSeq >= request.CSeq.Number);

    /// <summary>A fresh To tag; <see cref="SipResponse.CreateFor(SipRequest, int, string?, string?)"/> adds it only when the To has none.</summary>
    private string ToTag() => _ids.NewTag();

    private SipResponse Reply(SipRequest request, int status, string warning)
    {
        var response = SipResponse.CreateFor(request, status, toTag: ToTag());
        response.Headers.Add(HeaderNames.Warning, $"399 - \"{warning}\"");
        return response;
    }
}
