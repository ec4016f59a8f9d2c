using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>SIP over TLS through a running pool (RFC 3261 §26, RFC 5630), phones and pool on real loopback TLS sockets.</summary>
[TestFixture]
public sealed class TlsTests : IntegrationTest
{
    [Test]
    public async Task A_phone_registered_over_TLS_gets_its_call_on_its_own_TLS_connection_with_a_tls_Record_Route()
    {
        var lab = await StartLabAsync(tls: true);
        var alice = await lab.PhoneAsync("alice", lab.A, SipProtocol.Tls);
        var bob = await lab.PhoneAsync("bob", lab.A, SipProtocol.Tls);
        Assert.That((await alice.RegisterAsync()).StatusCode, Is.EqualTo(200));
        Assert.That((await bob.RegisterAsync()).StatusCode, Is.EqualTo(200));
        var poolTls = LabTls.EndPointOf(lab.A, SipProtocol.Tls);
        var binding = lab.A.Bindings.Get("sip:bob@callpark.lab", lab.A.Time.GetUtcNow()).Single();
        Assert.That(binding.Source, Does.StartWith("tls:"));
        Assert.That(binding.Contact, Does.Contain("transport=tls"));

        var dialling = alice.CallAsync("bob");
        var incoming = await bob.NextIncomingAsync();

        // From the pool's listening port: the pool wrote on the connection bob registered over; a connection it
        // opened to bob's Contact would come from an ephemeral port.
        Assert.That(incoming.Transaction.Incoming.Remote, Is.EqualTo(new SipEndPoint(SipProtocol.Tls, poolTls)));
        Assert.That(incoming.Request.TopVia!.Transport, Is.EqualTo("TLS"));
        Assert.That(incoming.Request.Headers.GetAll(HeaderNames.RecordRoute),
            Has.Some.StartsWith($"<sip:127.0.0.1:{poolTls.Port};transport=tls;lr;cpt="), "our Record-Route over TLS, with its dialog token");
        var calleeCall = await incoming.AnswerAsync(bob.Sdp);
        var attempt = await dialling;
        Assert.That(attempt.IsSuccess, Is.True, attempt.ToString());
        await calleeCall.Confirmed.WaitAsync(LabPhone.Bound);
    }

    [Test]
    public async Task A_sips_call_over_TLS_to_a_phone_registered_over_UDP_gets_480_with_a_Warning_and_is_not_forwarded()
    {
        var lab = await StartLabAsync(tls: true);
        var alice = await lab.PhoneAsync("alice", lab.A, SipProtocol.Tls);
        var bob = await lab.PhoneAsync("bob", lab.A, SipProtocol.Udp);
        Assert.That((await alice.RegisterAsync()).StatusCode, Is.EqualTo(200));
        Assert.That((await bob.RegisterAsync()).StatusCode, Is.EqualTo(200));

        var attempt = await alice.CallAsync(SipUri.Parse("sips:bob@callpark.lab"));

        Assert.That(attempt.StatusCode, Is.EqualTo(480), attempt.ToString());
        Assert.That(attempt.Response!.Headers.Get(HeaderNames.Warning),
            Does.StartWith("399 pool-a \"sips:bob@callpark.lab is reachable only over UDP or TCP"));
        Assert.That(lab.Log.Lines, Has.Some.Contains("a sips: request goes only over TLS"), "the pool refused to forward it over UDP");
    }
}
