using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Pool.Pairing;
using SipCallPark.Pool.Resiliency;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>
/// Someone on the same host posing as the partner pool (docs/design.md §11 "Trust"): from its address, with its Via,
/// answering its probes. Only pool-a runs; the attacker takes pool-b's address.
/// </summary>
[TestFixture]
public sealed class PartnerTrustTests : IntegrationTest
{
    private static string ForgedInvite(string transport, IPEndPoint partner, string callId) =>
        $"INVITE sip:bob@callpark.lab SIP/2.0\r\n" +
        $"Via: SIP/2.0/{transport} {partner};branch=z9hG4bK-{callId}\r\n" +
        "Max-Forwards: 70\r\n" +
        "From: <sip:erin@callpark.lab>;tag=forged\r\n" +
        "To: <sip:bob@callpark.lab>\r\n" +
        $"Call-ID: {callId}\r\n" +
        "CSeq: 1 INVITE\r\n" +
        $"Contact: <sip:erin@{partner}>\r\n" +
        "Content-Length: 0\r\n\r\n";

    /// <summary>The first final (or non-100) answer to <paramref name="callId"/> among what the socket receives, bounded.</summary>
    private static async Task<SipResponse> AnswerToAsync(Func<CancellationToken, Task<byte[]>> receive, string callId)
    {
        using var bound = new CancellationTokenSource(LabPhone.Bound);
        while (true)
        {
            var data = await receive(bound.Token);
            if (SipParser.Parse(data).Message is SipResponse { StatusCode: > 100 } response && response.CallId == callId) return response;
        }
    }

    [Test]
    public async Task A_UDP_INVITE_from_the_partners_own_address_and_port_with_its_Via_is_challenged_like_any_users()
    {
        var lab = await StartLabAsync();
        var bob = await RegisteredPhoneAsync(lab, "bob");
        using var attacker = new UdpClient(lab.AddressOf("pool-b"));

        await attacker.SendAsync(Encoding.UTF8.GetBytes(ForgedInvite("UDP", lab.AddressOf("pool-b"), "forged-udp")), lab.AddressOf("pool-a"));
        var answer = await AnswerToAsync(async ct => (await attacker.ReceiveAsync(ct)).Buffer, "forged-udp");

        Assert.That(answer.StatusCode, Is.EqualTo(407));
        Assert.That(bob.PendingIncoming, Is.Zero);
    }

    [Test]
    public async Task A_TCP_INVITE_from_the_partners_address_with_its_Via_is_challenged_like_any_users()
    {
        var lab = await StartLabAsync();
        var bob = await RegisteredPhoneAsync(lab, "bob");
        using var attacker = new TcpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await attacker.ConnectAsync(lab.AddressOf("pool-a"));
        var stream = attacker.GetStream();

        await stream.WriteAsync(Encoding.UTF8.GetBytes(ForgedInvite("TCP", lab.AddressOf("pool-b"), "forged-tcp")));
        var buffer = new byte[8192];
        var answer = await AnswerToAsync(async ct =>
        {
            var read = await stream.ReadAsync(buffer, ct);
            return buffer[..read];
        }, "forged-tcp");

        Assert.That(answer.StatusCode, Is.EqualTo(407));
        Assert.That(bob.PendingIncoming, Is.Zero);
    }

    /// <summary>Answers pool-a's probes at pool-b's address with 200 and <paramref name="phases"/>, signed by
    /// <paramref name="signer"/> when given, until <paramref name="count"/> probes were answered.</summary>
    private static async Task AnswerProbesAsync(LabPools lab, int count, string phases, PartnerAuthenticator? signer)
    {
        using var impostor = new UdpClient(lab.AddressOf("pool-b"));
        using var bound = new CancellationTokenSource(LabPhone.Bound);
        for (var answered = 0; answered < count;)
        {
            var datagram = await impostor.ReceiveAsync(bound.Token);
            if (SipParser.Parse(datagram.Buffer).Message is not SipRequest { Method: SipMethods.Options } probe) continue;
            var ok = SipResponse.CreateFor(probe, 200, toTag: $"imp{answered}");
            ok.Headers.Add(PartnerAuthenticator.DrPhaseHeader, phases);
            if (signer is not null) signer.Sign(ok);
            await impostor.SendAsync(ok.ToArray(), datagram.RemoteEndPoint);
            answered++;
        }
    }

    private static PartnerAuthenticator PoolB(LabPools lab, string secret) =>
        new("pool-b", lab.Topology, new PartnerOptions { Secret = secret }, TimeProvider.System, NullLogger<PartnerAuthenticator>.Instance);

    [Test]
    public async Task An_impostor_answering_the_probes_with_FailedOver_unsigned_or_with_a_wrong_secret_changes_nothing_and_stores_nothing()
    {
        var lab = await StartLabAsync(persistent: true);

        await AnswerProbesAsync(lab, 3, "pool-a=FailedOver, pool-b=Normal", signer: null);
        await AnswerProbesAsync(lab, 3, "pool-a=FailedOver, pool-b=Normal", PoolB(lab, "a-guessed-secret-0123456789"));

        Assert.That(lab.A.PhaseOf("pool-a"), Is.EqualTo(DrPhase.Normal));
        await lab.RestartAAsync();
        Assert.That(lab.A.PhaseOf("pool-a"), Is.EqualTo(DrPhase.Normal), "nothing was stored for a restart to find");
        Assert.That(lab.Log.Lines.Any(l => l.Contains("Ignored an answer", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public async Task An_impostor_answering_every_probe_unsigned_at_a_dead_partners_address_does_not_hide_its_outage()
    {
        var lab = await StartLabAsync();

        // pool-b is not running: whoever answers at its address has no secret. Answers keep coming all along.
        await AnswerProbesAsync(lab, 30, "pool-b=Normal", signer: null);

        Assert.That(lab.A.PhaseOf("pool-b"), Is.EqualTo(DrPhase.Outage), "unsigned answers do not show the partner alive");
    }

    [Test]
    public async Task The_partners_signed_answer_with_FailedOver_is_believed_and_stored()
    {
        var lab = await StartLabAsync(persistent: true);

        await AnswerProbesAsync(lab, 2, "pool-a=FailedOver, pool-b=Normal", PoolB(lab, LabPools.PartnerSecret));

        Assert.That(lab.A.PhaseOf("pool-a"), Is.EqualTo(DrPhase.FailedOver));
        await lab.RestartAAsync();
        Assert.That(lab.A.PhaseOf("pool-a"), Is.EqualTo(DrPhase.FailedOver));
    }

    [Test]
    public async Task An_OPTIONS_from_anyone_but_the_partner_is_answered_without_the_DR_phases()
    {
        var lab = await StartLabAsync();
        using var stranger = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var local = (IPEndPoint)stranger.Client.LocalEndPoint!;
        var options = $"OPTIONS sip:{lab.AddressOf("pool-a")} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-opt1\r\nMax-Forwards: 70\r\n" +
                      $"From: <sip:scanner@example.com>;tag=s1\r\nTo: <sip:{lab.AddressOf("pool-a")}>\r\nCall-ID: opt-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

        await stranger.SendAsync(Encoding.UTF8.GetBytes(options), lab.AddressOf("pool-a"));
        var answer = await AnswerToAsync(async ct => (await stranger.ReceiveAsync(ct)).Buffer, "opt-1");

        Assert.That(answer.StatusCode, Is.EqualTo(200));
        Assert.That(answer.Headers.Get(PartnerAuthenticator.DrPhaseHeader), Is.Null);
        Assert.That(answer.Headers.Get(PoolAuthHeader.Name), Is.Null);
    }
}
