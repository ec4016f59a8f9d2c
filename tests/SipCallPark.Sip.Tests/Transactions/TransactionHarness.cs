using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transactions;

/// <summary>
/// A transaction layer on a fake clock with a recording transport and TU, plus the messages the tests exchange.
/// Time only moves when a test calls <see cref="Advance"/>; no test waits on the wall clock.
/// </summary>
internal sealed class TransactionHarness
{
    public static readonly IPEndPoint Local = new(IPAddress.Loopback, 5060);
    public static readonly IPEndPoint Peer = new(IPAddress.Loopback, 5070);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(10);

    public TransactionHarness(TransactionOptions? options = null)
    {
        Time = new FakeTimeProvider();
        Sender = new RecordingSender(Time);
        User = new RecordingTransactionUser();
        Options = options ?? new TransactionOptions();
        Layer = new SipTransactionLayer(Sender, Options, Time, NullLogger<SipTransactionLayer>.Instance, User,
            new SipIdGenerator(new Random(7).NextBytes));
    }

    public FakeTimeProvider Time { get; }
    public RecordingSender Sender { get; }
    public RecordingTransactionUser User { get; }
    public TransactionOptions Options { get; }
    public SipTransactionLayer Layer { get; }

    public static SipEndPoint PeerEndPoint(SipProtocol protocol = SipProtocol.Udp) => new(protocol, Peer);

    /// <summary>Moves the fake clock in 10 ms steps so every timer fires at its own instant, in order.</summary>
    public void Advance(TimeSpan by)
    {
        var steps = (int)(by.Ticks / Step.Ticks);
        for (var i = 0; i < steps; i++) Time.Advance(Step);
        var rest = by - steps * Step;
        if (rest > TimeSpan.Zero) Time.Advance(rest);
    }

    public void AdvanceMs(int milliseconds) => Advance(TimeSpan.FromMilliseconds(milliseconds));

    public Task ReceiveAsync(SipMessage message, SipProtocol protocol = SipProtocol.Udp) =>
        Layer.HandleIncomingAsync(new IncomingMessage(message, PeerEndPoint(protocol), Local, protocol == SipProtocol.Udp ? 0 : 1, Time.GetUtcNow()));

    public Task ReceiveAsync(string text, SipProtocol protocol = SipProtocol.Udp) => ReceiveAsync(Parse(text), protocol);

    public static SipMessage Parse(string text)
    {
        var result = SipParser.Parse(Encoding.UTF8.GetBytes(text));
        if (!result.Success) throw new AssertionException($"Test message does not parse: {result.Error}\n{text}");
        return result.Message!;
    }

    /// <summary>A request as a UA would send it; <paramref name="branch"/> null leaves the branch out (RFC 2543).</summary>
    public static SipRequest Request(string method = "INVITE", string? branch = "z9hG4bKclient1", string transport = "UDP",
        long cseq = 1, string? toTag = null, string callId = "call-1@127.0.0.1", string? extraHeaders = null)
    {
        var branchParam = branch is null ? "" : $";branch={branch}";
        var to = toTag is null ? "<sip:bob@127.0.0.1>" : $"<sip:bob@127.0.0.1>;tag={toTag}";
        return (SipRequest)Parse(
            $"{method} sip:bob@127.0.0.1:5060 SIP/2.0\r\n" +
            $"Via: SIP/2.0/{transport} 127.0.0.1:5070{branchParam}\r\n" +
            "Max-Forwards: 70\r\n" +
            "Route: <sip:proxy1.callpark.lab;lr>\r\n" +
            "Route: <sip:proxy2.callpark.lab;lr>\r\n" +
            "From: Alice <sip:alice@127.0.0.1>;tag=alice-tag\r\n" +
            $"To: Bob {to}\r\n" +
            $"Call-ID: {callId}\r\n" +
            $"CSeq: {cseq} {method}\r\n" +
            "Contact: <sip:alice@127.0.0.1:5070>\r\n" +
            (extraHeaders ?? "") +
            "Content-Length: 0\r\n\r\n");
    }

    /// <summary>A response to <paramref name="request"/> as the peer would send it.</summary>
    public static SipResponse Response(SipRequest request, int status, string? toTag = "bob-tag") =>
        SipResponse.CreateFor(request, status, toTag: toTag);

    public static async Task<T> Within<T>(Task<T> task)
    {
        // Bounded: everything here runs on the fake clock, so a real second means a hang, not slowness.
        var finished = await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        if (finished != task) throw new AssertionException("Timed out waiting for the task");
        return await task.ConfigureAwait(false);
    }
}
