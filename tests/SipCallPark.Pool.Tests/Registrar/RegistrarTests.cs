using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Auth;
using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.State;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Auth;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Tests.Registrar;

public class RegistrarTests
{
    private static readonly SipEndPoint Source = new(SipProtocol.Udp, new IPEndPoint(IPAddress.Loopback, 5070));
    private FakeTimeProvider _time = null!;
    private InMemoryBindingStore _store = null!;
    private DigestAuthenticator _auth = null!;
    private Pool.Registrar.Registrar _registrar = null!;
    private int _cseq;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 8, 0, 0, TimeSpan.Zero));
        _store = new InMemoryBindingStore();
        var users = new UserDirectory([new LabUser("alice", "pool-a", Password: "alice-secret"), new LabUser("erin", "pool-b", Password: "erin-secret")]);
        _auth = new DigestAuthenticator(new DigestOptions { Realm = "callpark.lab" }, users, _time);
        _registrar = Create(new RegistrarOptions(), new StandalonePolicy());
        _cseq = 0;
    }

    private Pool.Registrar.Registrar Create(RegistrarOptions options, IHomePoolPolicy policy) =>
        new(options, _store, _auth, new UserDirectory([new LabUser("alice", "pool-a", Password: "alice-secret"), new LabUser("erin", "pool-b", Password: "erin-secret")]),
            new SipIdGenerator(new Random(1).NextBytes), policy, "callpark.lab", "pool-a", _time, NullLogger<Pool.Registrar.Registrar>.Instance);

    private SipRequest Register(string user, string contact, string? expiresHeader = null, string callId = "reg-1", string requestUri = "sip:callpark.lab")
    {
        var text = $"REGISTER {requestUri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK{++_cseq}\r\n" +
                   $"From: <sip:{user}@callpark.lab>;tag=t1\r\nTo: <sip:{user}@callpark.lab>\r\nCall-ID: {callId}\r\nCSeq: {_cseq} REGISTER\r\n" +
                   $"Contact: {contact}\r\n" + (expiresHeader is null ? "" : $"Expires: {expiresHeader}\r\n") + "Content-Length: 0\r\n\r\n";
        return (SipRequest)SipParser.Parse(Encoding.UTF8.GetBytes(text)).Message!;
    }

    /// <summary>Sends the REGISTER, answers the 401 like a phone would, and returns the final response.</summary>
    private async Task<SipResponse> RegisterWithAuth(string user, string password, string contact, string? expires = null, string callId = "reg-1")
    {
        var challenge = await _registrar.HandleAsync(Register(user, contact, expires, callId), Source);
        Assert.That(challenge.StatusCode, Is.EqualTo(401));
        var retry = Register(user, contact, expires, callId);
        new DigestClient(user, password).Authorize(retry, challenge);
        return await _registrar.HandleAsync(retry, Source);
    }

    [Test]
    public async Task A_register_without_credentials_is_challenged_with_sha256_and_md5()
    {
        var response = await _registrar.HandleAsync(Register("alice", "<sip:alice@127.0.0.1:5070>"), Source);
        var challenges = response.Headers.GetAll(HeaderNames.WwwAuthenticate).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(401));
            Assert.That(challenges, Has.Length.EqualTo(2));
            Assert.That(challenges[0], Does.Contain("algorithm=SHA-256"));
            Assert.That(challenges[1], Does.Contain("algorithm=MD5"));
        });
    }

    [Test]
    public async Task A_register_with_the_right_password_binds_the_contact_in_normal_mode()
    {
        var response = await RegisterWithAuth("alice", "alice-secret", "<sip:alice@127.0.0.1:5070>");
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(200));
            Assert.That(response.Contacts.Single().Uri.ToString(), Is.EqualTo("sip:alice@127.0.0.1:5070"));
            Assert.That(response.Contacts.Single().Parameters.Get("expires"), Is.EqualTo("3600"));
            Assert.That(response.Headers.Get(Pool.Registrar.Registrar.ModeHeader), Is.EqualTo("normal"));
            Assert.That(_store.Get("sip:alice@callpark.lab", _time.GetUtcNow()), Has.Count.EqualTo(1));
        });
    }

    [Test]
    public async Task A_register_sent_to_the_pools_own_address_is_served_and_one_to_another_host_is_forbidden()
    {
        var ids = new SipIdGenerator(new Random(1).NextBytes);
        _registrar = new(new RegistrarOptions(), _store, _auth, new UserDirectory([new LabUser("alice", "pool-a", Password: "alice-secret")]),
            ids, new StandalonePolicy(), "callpark.lab", "pool-a", _time, NullLogger<Pool.Registrar.Registrar>.Instance,
            uri => uri.Host == "127.0.0.1" && uri.Port == 5060);

        var challenge = await _registrar.HandleAsync(Register("alice", "<sip:alice@127.0.0.1:5070>", requestUri: "sip:127.0.0.1:5060"), Source);
        var retry = Register("alice", "<sip:alice@127.0.0.1:5070>", requestUri: "sip:127.0.0.1:5060");
        new DigestClient("alice", "alice-secret").Authorize(retry, challenge);
        var served = await _registrar.HandleAsync(retry, Source);
        var elsewhere = await _registrar.HandleAsync(Register("alice", "<sip:alice@127.0.0.1:5070>", requestUri: "sip:127.0.0.1:5062"), Source);

        Assert.Multiple(() =>
        {
            Assert.That(challenge.StatusCode, Is.EqualTo(401));
            Assert.That(served.StatusCode, Is.EqualTo(200));
            Assert.That(_store.Get("sip:alice@callpark.lab", _time.GetUtcNow()), Has.Count.EqualTo(1));
            Assert.That(elsewhere.StatusCode, Is.EqualTo(403));
        });
    }

    [Test]
    public async Task A_register_with_a_wrong_password_is_forbidden()
    {
        var response = await RegisterWithAuth("alice", "guess", "<sip:alice@127.0.0.1:5070>");
        Assert.That(response.StatusCode, Is.EqualTo(403));
        Assert.That(_store.All(_time.GetUtcNow()), Is.Empty);
    }

    [Test]
    public async Task A_replayed_nonce_count_is_not_accepted_but_challenged_again_with_a_fresh_nonce()
    {
        var challenge = await _registrar.HandleAsync(Register("alice", "<sip:alice@127.0.0.1:5070>"), Source);
        var retry = Register("alice", "<sip:alice@127.0.0.1:5070>");
        new DigestClient("alice", "alice-secret").Authorize(retry, challenge);
        Assert.That((await _registrar.HandleAsync(retry, Source)).StatusCode, Is.EqualTo(200));

        var replay = await _registrar.HandleAsync(retry, Source);

        var used = Nonce(challenge.Headers.Get(HeaderNames.WwwAuthenticate)!);
        var fresh = replay.Headers.Get(HeaderNames.WwwAuthenticate);
        Assert.Multiple(() =>
        {
            Assert.That(replay.StatusCode, Is.EqualTo(401), "the same nonce and nc again");
            Assert.That(fresh, Does.Contain("stale=true"));
            Assert.That(Nonce(fresh!), Is.Not.EqualTo(used), "a new nonce to answer");
        });
    }

    [Test]
    public async Task A_nonce_count_that_goes_backwards_is_challenged_again_and_a_higher_one_is_accepted()
    {
        var challenge = await _registrar.HandleAsync(Register("alice", "<sip:alice@127.0.0.1:5070>"), Source);
        var client = new DigestClient("alice", "alice-secret");
        var first = Register("alice", "<sip:alice@127.0.0.1:5070>");
        client.Authorize(first, challenge);
        var second = Register("alice", "<sip:alice@127.0.0.1:5070>");
        client.Authorize(second, challenge);
        Assert.That(second.Headers.Get(HeaderNames.Authorization), Does.Contain("nc=00000002"), "the client counts up");

        Assert.That((await _registrar.HandleAsync(second, Source)).StatusCode, Is.EqualTo(200));
        Assert.That((await _registrar.HandleAsync(first, Source)).StatusCode, Is.EqualTo(401), "nc 1 after nc 2");
    }

    private static string Nonce(string challenge) =>
        System.Text.RegularExpressions.Regex.Match(challenge, "nonce=\"([^\"]+)\"").Groups[1].Value;

    [Test]
    public async Task An_expired_nonce_is_challenged_again_as_stale()
    {
        var challenge = await _registrar.HandleAsync(Register("alice", "<sip:alice@127.0.0.1:5070>"), Source);
        _time.Advance(TimeSpan.FromMinutes(6));
        var retry = Register("alice", "<sip:alice@127.0.0.1:5070>");
        new DigestClient("alice", "alice-secret").Authorize(retry, challenge);
        var response = await _registrar.HandleAsync(retry, Source);
        Assert.That(response.StatusCode, Is.EqualTo(401));
        Assert.That(response.Headers.Get(HeaderNames.WwwAuthenticate), Does.Contain("stale=true"));
    }

    [Test]
    public async Task An_interval_below_min_expires_gets_423_with_min_expires()
    {
        var response = await RegisterWithAuth("alice", "alice-secret", "<sip:alice@127.0.0.1:5070>;expires=10");
        Assert.That(response.StatusCode, Is.EqualTo(423));
        Assert.That(response.Headers.Get(HeaderNames.MinExpires), Is.EqualTo("60"));
    }

    [Test]
    public async Task Two_contacts_are_listed_and_a_star_with_expires_zero_removes_all()
    {
        await RegisterWithAuth("alice", "alice-secret", "<sip:alice@127.0.0.1:5070>;q=0.5", callId: "c1");
        var two = await RegisterWithAuth("alice", "alice-secret", "<sip:alice@127.0.0.1:5072>;+sip.instance=\"<urn:uuid:1>\";reg-id=1", callId: "c2");
        Assert.That(two.Contacts, Has.Count.EqualTo(2));
        Assert.That(two.Contacts.Single(c => c.Uri.Port == 5070).Parameters.Get("q"), Is.EqualTo("0.5"));
        Assert.That(two.Contacts.Single(c => c.Uri.Port == 5072).Parameters.Get("+sip.instance"), Is.EqualTo("\"<urn:uuid:1>\""));
        var cleared = await RegisterWithAuth("alice", "alice-secret", "*", expires: "0", callId: "c3");
        Assert.That(cleared.StatusCode, Is.EqualTo(200));
        Assert.That(cleared.Contacts, Is.Empty);
        Assert.That(_store.All(_time.GetUtcNow()), Is.Empty);
    }

    [Test]
    public async Task A_star_without_expires_zero_is_a_bad_request()
    {
        var response = await RegisterWithAuth("alice", "alice-secret", "*");
        Assert.That(response.StatusCode, Is.EqualTo(400));
    }

    [Test]
    public async Task A_binding_expires_on_time()
    {
        await RegisterWithAuth("alice", "alice-secret", "<sip:alice@127.0.0.1:5070>", expires: "120");
        _time.Advance(TimeSpan.FromSeconds(119));
        Assert.That(_store.Get("sip:alice@callpark.lab", _time.GetUtcNow()), Has.Count.EqualTo(1));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(_store.Get("sip:alice@callpark.lab", _time.GetUtcNow()), Is.Empty);
        Assert.That(await _store.PurgeExpiredAsync(_time.GetUtcNow()), Is.EqualTo(1));
    }

    [Test]
    public async Task An_unknown_user_is_challenged_like_a_known_one_and_refused_like_a_wrong_password_so_names_cannot_be_enumerated()
    {
        var challenge = await _registrar.HandleAsync(Register("mallory", "<sip:m@127.0.0.1:5070>"), Source);
        var retry = Register("mallory", "<sip:m@127.0.0.1:5070>");
        new DigestClient("mallory", "guess").Authorize(retry, challenge);
        var answer = await _registrar.HandleAsync(retry, Source);
        var wrong = Register("alice", "<sip:a@127.0.0.1:5070>");
        new DigestClient("alice", "guess").Authorize(wrong, await _registrar.HandleAsync(Register("alice", "<sip:a@127.0.0.1:5070>"), Source));

        Assert.Multiple(async () =>
        {
            Assert.That(challenge.StatusCode, Is.EqualTo(401), "no 404 before the requester authenticates");
            Assert.That(answer.StatusCode, Is.EqualTo(403));
            Assert.That(answer.Headers.Get(HeaderNames.Warning), Is.EqualTo((await _registrar.HandleAsync(wrong, Source)).Headers.Get(HeaderNames.Warning)),
                "the same answer as a known user with a wrong password");
        });
    }

    [Test]
    public async Task An_authenticated_user_registering_an_unknown_address_of_record_learns_it_is_not_found()
    {
        var challenge = await _registrar.HandleAsync(Register("mallory", "<sip:m@127.0.0.1:5070>"), Source);
        var retry = Register("mallory", "<sip:m@127.0.0.1:5070>");
        new DigestClient("alice", "alice-secret").Authorize(retry, challenge);

        Assert.That((await _registrar.HandleAsync(retry, Source)).StatusCode, Is.EqualTo(404));
    }

    [Test]
    public async Task A_register_that_would_give_an_address_of_record_more_contacts_than_the_maximum_gets_403_with_a_warning_and_binds_none()
    {
        _registrar = Create(new RegistrarOptions { MaxContactsPerAor = 3 }, new StandalonePolicy());
        Assert.That((await RegisterWithAuth("alice", "alice-secret", "<sip:a1@127.0.0.1:5071>, <sip:a2@127.0.0.1:5072>", callId: "r1")).StatusCode,
            Is.EqualTo(200));

        var response = await RegisterWithAuth("alice", "alice-secret", "<sip:a3@127.0.0.1:5073>, <sip:a4@127.0.0.1:5074>", callId: "r2");

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(403));
            Assert.That(response.Headers.Get(HeaderNames.Warning), Does.Contain("too many contacts").And.Contain("at most 3"));
            Assert.That(_store.Get("sip:alice@callpark.lab", _time.GetUtcNow()), Has.Count.EqualTo(2), "the refused REGISTER bound nothing");
        });
    }

    [Test]
    public void A_maximum_of_contacts_per_address_of_record_outside_1_to_1000_is_refused_naming_the_key()
    {
        var e = Assert.Throws<OptionsValidationError>(() => new RegistrarOptions { MaxContactsPerAor = 0 }.Validate("Pool:Registrar"));
        Assert.That(e!.Message, Does.Contain("Pool:Registrar:MaxContactsPerAor"));
    }

    [Test]
    public async Task One_user_may_not_register_another()
    {
        var challenge = await _registrar.HandleAsync(Register("erin", "<sip:erin@127.0.0.1:5070>"), Source);
        var retry = Register("erin", "<sip:erin@127.0.0.1:5070>");
        // alice's valid credentials, used for erin's address of record
        var auth = new DigestClient("alice", "alice-secret");
        auth.Authorize(retry, challenge);
        Assert.That((await _registrar.HandleAsync(retry, Source)).StatusCode, Is.EqualTo(403));
    }

    [Test]
    public async Task A_user_homed_on_a_healthy_partner_is_redirected_with_home_and_backup_contacts()
    {
        var policy = new FixedPolicy(new RegistrationDecision.Redirect([(SipUri.Parse("sip:127.0.0.1:5062"), 0.7), (SipUri.Parse("sip:127.0.0.1:5060"), 0.3)]));
        _registrar = Create(new RegistrarOptions(), policy);
        var response = await _registrar.HandleAsync(Register("erin", "<sip:erin@127.0.0.1:5070>"), Source);
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(301), "redirected before any challenge");
            Assert.That(response.Contacts.Select(c => (c.Uri.Port, c.Parameters.Get("q"))), Is.EqualTo(new[] { ((int?)5062, "0.7"), (5060, "0.3") }));
            Assert.That(_store.All(_time.GetUtcNow()), Is.Empty);
        });
    }

    [Test]
    public async Task A_register_served_in_resiliency_mode_says_so_with_the_lync_warning()
    {
        _registrar = Create(new RegistrarOptions(), new FixedPolicy(new RegistrationDecision.Serve(RegistrationMode.Resiliency)));
        var response = await RegisterWithAuth("erin", "erin-secret", "<sip:erin@127.0.0.1:5070>");
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(200));
            Assert.That(response.Headers.Get(Pool.Registrar.Registrar.ModeHeader), Is.EqualTo("resiliency"));
            Assert.That(response.Headers.Get(HeaderNames.Warning), Is.EqualTo("399 pool-a \"Resiliency mode: limited functionality\""));
            Assert.That(_store.All(_time.GetUtcNow()).Single().Mode, Is.EqualTo(RegistrationMode.Resiliency));
        });
    }

    [Test]
    public async Task Each_binding_records_what_the_nat_test_saw_of_its_register()
    {
        await RegisterWithAuth("alice", "alice-secret", "<sip:alice@127.0.0.1:5080>, <sip:alice@127.0.0.7:5070>");
        var bindings = _store.Get("sip:alice@callpark.lab", _time.GetUtcNow()).ToDictionary(b => b.Contact, b => b.Nat);
        Assert.That(bindings, Is.EquivalentTo(new Dictionary<string, NatSigns?>
        {
            ["sip:alice@127.0.0.1:5080"] = NatSigns.None,
            ["sip:alice@127.0.0.7:5070"] = NatSigns.ContactAddress,
        }));
    }

    private sealed class FixedPolicy(RegistrationDecision decision) : IHomePoolPolicy
    {
        public RegistrationDecision Decide(LabUser user) => decision;
    }
}
