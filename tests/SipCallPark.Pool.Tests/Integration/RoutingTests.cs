using System.Globalization;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>What a running pool answers when a request cannot or may not be placed, and the paired-pool rules.</summary>
[TestFixture]
public sealed class RoutingTests : IntegrationTest
{
    [Test]
    public async Task A_call_to_a_user_the_domain_does_not_know_gets_404()
    {
        var lab = await StartLabAsync();
        var alice = await lab.PhoneAsync("alice", lab.A);

        var attempt = await alice.CallAsync("zed");

        Assert.That(attempt.StatusCode, Is.EqualTo(404), attempt.ToString());
    }

    [Test]
    public async Task A_call_to_a_known_user_without_a_binding_gets_480()
    {
        var lab = await StartLabAsync();
        var alice = await lab.PhoneAsync("alice", lab.A);

        var attempt = await alice.CallAsync("carol");

        Assert.That(attempt.StatusCode, Is.EqualTo(480), attempt.ToString());
    }

    [Test]
    public async Task A_call_to_a_foreign_domain_gets_403_because_the_pool_is_no_open_relay()
    {
        var lab = await StartLabAsync();
        var alice = await lab.PhoneAsync("alice", lab.A);

        var attempt = await alice.CallAsync(SipUri.Parse("sip:x@example.com"));

        Assert.That(attempt.StatusCode, Is.EqualTo(403), attempt.ToString());
        Assert.That(attempt.Response!.Headers.Get(HeaderNames.Warning), Does.Contain("example.com"));
    }

    [Test]
    public async Task An_INVITE_without_credentials_gets_407_with_a_proxy_challenge()
    {
        var lab = await StartLabAsync();
        var bob = await lab.PhoneAsync("bob", lab.A);
        Assert.That((await bob.RegisterAsync()).StatusCode, Is.EqualTo(200));
        var stranger = await lab.PhoneAsync("alice", lab.A, withoutPassword: true);

        var attempt = await stranger.CallAsync("bob");

        Assert.That(attempt.StatusCode, Is.EqualTo(407), attempt.ToString());
        Assert.That(attempt.Response!.Headers.Get(HeaderNames.ProxyAuthenticate), Does.StartWith("Digest").And.Contain("realm=\"callpark.lab\""));
        Assert.That(bob.PendingIncoming, Is.Zero, "nothing reached bob");
    }

    [Test]
    public async Task Alice_on_pool_a_calls_erin_registered_at_pool_b_through_both_pools()
    {
        var lab = await StartLabAsync(bothPools: true);
        var alice = await lab.PhoneAsync("alice", lab.A);
        var erin = await lab.PhoneAsync("erin", lab.B!);
        Assert.That((await alice.RegisterAsync()).StatusCode, Is.EqualTo(200));
        var registered = await erin.RegisterAsync();
        Assert.That(registered.StatusCode, Is.EqualTo(200), registered.ToString());

        var dialling = alice.CallAsync("erin");
        var incoming = await erin.NextIncomingAsync();
        var erinsCall = await incoming.AnswerAsync(erin.Sdp);
        var attempt = await dialling;

        Assert.That(attempt.StatusCode, Is.EqualTo(200), attempt.ToString());
        Assert.That(incoming.Offer, Is.EqualTo(alice.Sdp));
        Assert.That(attempt.Call!.RemoteSdp, Is.EqualTo(erin.Sdp));
        Assert.That(incoming.Request.Vias, Has.Count.EqualTo(3), "alice, pool-a, pool-b");
        var routes = attempt.Response!.RecordRoutes.Select(r => r.Uri.Port).ToArray();
        Assert.That(routes, Does.Contain(lab.A.SipEndPoint.Port).And.Contain(lab.B!.SipEndPoint.Port));
        await erinsCall.Confirmed.WaitAsync(LabPhone.Bound);

        var hangUp = await erinsCall.HangUpAsync().WaitAsync(LabPhone.Bound);

        Assert.That(hangUp!.StatusCode, Is.EqualTo(200), hangUp.ToString());
        Assert.That(await attempt.Call.Ended.WaitAsync(LabPhone.Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
    }

    [Test]
    public async Task A_user_registering_at_the_pool_that_is_not_its_home_is_redirected_home_with_the_backup_second()
    {
        var lab = await StartLabAsync(bothPools: true);
        var erin = await lab.PhoneAsync("erin", lab.A);

        var result = await erin.RegisterAsync();

        Assert.That(result.StatusCode, Is.EqualTo(301), result.ToString());
        var contacts = result.Response!.Contacts
            .Select(c => (Port: c.Uri.Port, Q: double.Parse(c.Parameters.Get("q")!, CultureInfo.InvariantCulture))).ToArray();
        Assert.That(contacts, Is.EqualTo(new[] { (lab.B!.SipEndPoint.Port, 0.7), (lab.A.SipEndPoint.Port, 0.3) }));
        Assert.That(result.Response.Contacts.Select(c => c.Uri.Host), Is.All.EqualTo("127.0.0.1"));
        Assert.That(lab.A.Bindings.All(lab.A.Time.GetUtcNow()), Is.Empty);
    }
}
