using System.Net;
using System.Text;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transport;

/// <summary>
/// What the transport logs and traces around its stop. The pool disposes its pcap writer right after the transport, so
/// a message logged or traced after the transport has stopped is a line in the log with no frame in the trace (the
/// process test's 46 frames for 47 logged messages); a message still being traced when the stop begins must reach
/// its observers before the stop returns.
/// </summary>
public class SipMessageTransportStopTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Test]
    public async Task A_request_sent_after_the_transport_stopped_is_neither_logged_nor_traced_as_sent()
    {
        var log = new CapturingLogger();
        using var phone = new RawUdpPeer();
        var transport = await StartAsync(log);
        var traced = new List<SipMessageEvent>();
        transport.MessageTraced += e => { lock (traced) traced.Add(e); };
        await transport.DisposeAsync();

        // A retransmission timer that fires while the pool stops does exactly this.
        bool sent = await transport.SendRequestAsync(Options("late"), new SipEndPoint(SipProtocol.Udp, phone.LocalEndPoint));

        Assert.Multiple(() =>
        {
            Assert.That(sent, Is.False);
            lock (traced) Assert.That(traced, Is.Empty, "no MessageTraced event: the pcap writer may be closed already");
            Assert.That(log.Entries.Where(e => e.Template.StartsWith("{Direction} {Transport}", StringComparison.Ordinal)), Is.Empty,
                "no per-message summary line (event 1148) for a message that never went out");
            Assert.That(log.Entries.Any(e => e.Message.Contains("the transport is stopped", StringComparison.Ordinal)), Is.True,
                "the log says why it was not sent");
        });
    }

    [Test]
    public async Task Stopping_waits_until_a_message_being_traced_has_reached_its_observers()
    {
        var log = new CapturingLogger();
        using var phone = new RawUdpPeer();
        var transport = await StartAsync(log);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new ManualResetEventSlim();
        int order = 0, observerDone = 0, stopDone = 0;
        transport.MessageTraced += _ =>
        {
            entered.TrySetResult();
            release.Wait(Bound); // an observer in the middle of its work when the stop begins
            observerDone = Interlocked.Increment(ref order);
        };

        Task<bool> send = Task.Run(async () =>
            await transport.SendRequestAsync(Options("in-flight"), new SipEndPoint(SipProtocol.Udp, phone.LocalEndPoint)));
        await entered.Task.WaitAsync(Bound);
        Task stop = Task.Run(async () =>
        {
            await transport.DisposeAsync();
            stopDone = Interlocked.Increment(ref order);
        });
        // The stop must not return while the observer holds the message; give a stop that does not wait a chance to.
        await Task.WhenAny(stop, Task.Delay(TimeSpan.FromMilliseconds(500)));
        release.Set();
        await stop.WaitAsync(Bound);
        await send.WaitAsync(Bound);

        Assert.That(observerDone, Is.EqualTo(1), "the observer finished first");
        Assert.That(stopDone, Is.EqualTo(2), "then the stop returned");
    }

    private static async Task<SipMessageTransport> StartAsync(CapturingLogger log)
    {
        var udp = new UdpChannel(Loopback.V4Any, new TransportOptions { UdpReceiveLoops = 1 }, log);
        var transport = new SipMessageTransport([udp], new TypedLogger<SipMessageTransport>(log));
        await transport.StartAsync(_ => ValueTask.CompletedTask, CancellationToken.None);
        return transport;
    }

    private static SipRequest Options(string callId) => (SipRequest)SipParser.Parse(Encoding.ASCII.GetBytes(
        "OPTIONS sip:phone@127.0.0.1 SIP/2.0\r\n" +
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-stop-" + callId + "\r\n" +
        "Max-Forwards: 70\r\n" +
        "From: <sip:park@lab.test>;tag=park-1\r\n" +
        "To: <sip:phone@lab.test>\r\n" +
        $"Call-ID: {callId}\r\n" +
        "CSeq: 1 OPTIONS\r\n" +
        "Content-Length: 0\r\n\r\n")).Message!;
}
