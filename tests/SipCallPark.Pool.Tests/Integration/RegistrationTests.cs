using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Registrar;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>REGISTER against a running pool over real loopback sockets.</summary>
[TestFixture]
public sealed class RegistrationTests : IntegrationTest
{
    private static readonly SipProtocol[] Transports = [SipProtocol.Udp, SipProtocol.Tcp];

    [TestCaseSource(nameof(Transports))]
    public async Task A_phone_with_the_right_password_is_registered_in_normal_mode_with_its_contact_listed(SipProtocol transport)
    {
        var lab = await StartLabAsync();
        var alice = await lab.PhoneAsync("alice", lab.A, transport);

        var result = await alice.RegisterAsync();

        Assert.That(result.StatusCode, Is.EqualTo(200), result.ToString());
        var ok = result.Response!;
        Assert.That(ok.Headers.Get(SipCallPark.Pool.Registrar.Registrar.ModeHeader), Is.EqualTo("normal"));
        Assert.That(ok.Contacts.Select(c => c.Uri.ToString()), Does.Contain(alice.Contact.ToString()));
        Assert.That(alice.Responses.Select(r => r.StatusCode), Does.Contain(401), "the first REGISTER is challenged");
        var binding = lab.A.Bindings.Get("sip:alice@callpark.lab", lab.A.Time.GetUtcNow()).Single();
        Assert.That(binding.Contact, Is.EqualTo(alice.Contact.ToString()));
        Assert.That(binding.Source, Does.StartWith(transport.ToString().ToLowerInvariant() + ":"));
    }

    [TestCaseSource(nameof(Transports))]
    public async Task A_phone_with_a_wrong_password_gets_403_after_the_challenge_and_no_binding(SipProtocol transport)
    {
        var lab = await StartLabAsync();
        var alice = await lab.PhoneAsync("alice", lab.A, transport, password: "not-alices-password");

        var result = await alice.RegisterAsync();

        Assert.That(result.StatusCode, Is.EqualTo(403), result.ToString());
        Assert.That(alice.Responses.Select(r => r.StatusCode).Where(s => s >= 200), Is.EqualTo(new[] { 401, 403 }));
        Assert.That(lab.A.Bindings.All(lab.A.Time.GetUtcNow()), Is.Empty);
    }

    [TestCaseSource(nameof(Transports))]
    public async Task A_REGISTER_without_credentials_gets_401_with_a_challenge(SipProtocol transport)
    {
        var lab = await StartLabAsync();
        // Without a password the agent cannot retry: its one REGISTER's answer is what comes back.
        var alice = await lab.PhoneAsync("alice", lab.A, transport, withoutPassword: true);

        var result = await alice.RegisterAsync();

        Assert.That(result.StatusCode, Is.EqualTo(401), result.ToString());
        Assert.That(result.Response!.Headers.Get(HeaderNames.WwwAuthenticate), Does.StartWith("Digest").And.Contain("realm=\"callpark.lab\""));
        Assert.That(alice.Responses.Count(r => r.StatusCode >= 200), Is.EqualTo(1));
        Assert.That(lab.A.Bindings.All(lab.A.Time.GetUtcNow()), Is.Empty);
    }

    [Test]
    public async Task An_expiry_below_Min_Expires_gets_423_naming_the_minimum()
    {
        var lab = await StartLabAsync();
        var alice = await lab.PhoneAsync("alice", lab.A);

        var result = await alice.RegisterAsync(expires: 30);

        Assert.That(result.StatusCode, Is.EqualTo(423), result.ToString());
        Assert.That(result.Response!.Headers.Get(HeaderNames.MinExpires), Is.EqualTo("60"));
        Assert.That(lab.A.Bindings.All(lab.A.Time.GetUtcNow()), Is.Empty);
    }

    [Test]
    public async Task A_star_contact_with_Expires_0_removes_every_binding_of_the_user()
    {
        var lab = await StartLabAsync();
        var desk = await lab.PhoneAsync("bob", lab.A);
        var mobile = await lab.PhoneAsync("bob", lab.A);
        Assert.That((await desk.RegisterAsync()).StatusCode, Is.EqualTo(200));
        Assert.That((await mobile.RegisterAsync()).StatusCode, Is.EqualTo(200));
        Assert.That(lab.A.Bindings.Get("sip:bob@callpark.lab", lab.A.Time.GetUtcNow()), Has.Count.EqualTo(2));

        var result = await desk.SendAsync(desk.NewRegister("*", 0));

        Assert.That(result.StatusCode, Is.EqualTo(200), result.ToString());
        Assert.That(result.Response!.Contacts, Is.Empty);
        Assert.That(lab.A.Bindings.Get("sip:bob@callpark.lab", lab.A.Time.GetUtcNow()), Is.Empty);
    }

    [Test]
    public async Task A_binding_expires_on_the_pool_clock_and_calls_to_its_user_then_get_480()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lab = await StartLabAsync(time: clock);
        var alice = await lab.PhoneAsync("alice", lab.A);
        var bob = await lab.PhoneAsync("bob", lab.A);
        Assert.That((await alice.RegisterAsync(expires: 60)).StatusCode, Is.EqualTo(200));
        Assert.That(lab.A.Bindings.All(clock.GetUtcNow()).Select(b => b.Aor), Is.EqualTo(new[] { "sip:alice@callpark.lab" }));

        clock.Advance(TimeSpan.FromSeconds(61));

        Assert.That(lab.A.Bindings.All(clock.GetUtcNow()), Is.Empty);
        var attempt = await bob.CallAsync("alice");
        Assert.That(attempt.StatusCode, Is.EqualTo(480), attempt.ToString());
        Assert.That(alice.PendingIncoming, Is.Zero);
    }

    [Test]
    public async Task Bindings_survive_a_restart_of_the_pool_on_the_same_database_and_calls_still_reach_the_phone()
    {
        var lab = await StartLabAsync(persistent: true);
        var alice = await lab.PhoneAsync("alice", lab.A);
        Assert.That((await alice.RegisterAsync()).StatusCode, Is.EqualTo(200));

        await lab.RestartAAsync();

        var binding = lab.A.Bindings.Get("sip:alice@callpark.lab", lab.A.Time.GetUtcNow()).Single();
        Assert.That(binding.Contact, Is.EqualTo(alice.Contact.ToString()));
        Assert.That(binding.Mode, Is.EqualTo(RegistrationMode.Normal));
        var bob = await lab.PhoneAsync("bob", lab.A);
        var dialling = bob.CallAsync("alice");
        var incoming = await alice.NextIncomingAsync();
        var answered = await incoming.AnswerAsync(alice.Sdp);
        var attempt = await dialling;
        Assert.That(attempt.StatusCode, Is.EqualTo(200), attempt.ToString());
        await answered.Confirmed.WaitAsync(LabPhone.Bound);
        Assert.That((await attempt.Call!.HangUpAsync().WaitAsync(LabPhone.Bound))!.StatusCode, Is.EqualTo(200));
    }
}
