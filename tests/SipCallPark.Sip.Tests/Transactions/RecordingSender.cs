using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transactions;

/// <summary>One message handed to the transport, with when (fake clock, since the test started) and where.</summary>
internal sealed record SentMessage(SipMessage Message, TimeSpan At, SipEndPoint? Destination)
{
    public SipRequest Request => (SipRequest)Message;

    public SipResponse Response => (SipResponse)Message;

    public override string ToString() => $"{At.TotalMilliseconds} ms {Message.FirstLine}";
}

/// <summary>An <see cref="ISipMessageSender"/> that records instead of sending; can be told to fail.</summary>
internal sealed class RecordingSender(TimeProvider time) : ISipMessageSender
{
    private readonly DateTimeOffset _start = time.GetUtcNow();
    private readonly List<SentMessage> _sent = [];

    public bool Fail { get; set; }

    public IReadOnlyList<SentMessage> Sent
    {
        get { lock (_sent) return _sent.ToArray(); }
    }

    public IReadOnlyList<SentMessage> Requests(string method) => Sent.Where(s => s.Message is SipRequest r && r.Method == method).ToArray();

    public IReadOnlyList<SentMessage> Responses(int status) => Sent.Where(s => s.Message is SipResponse r && r.StatusCode == status).ToArray();

    public ValueTask<bool> SendRequestAsync(SipRequest request, SipEndPoint destination, CancellationToken cancellationToken = default) =>
        Record(request, destination);

    public ValueTask<bool> SendResponseAsync(SipResponse response, IncomingMessage request, CancellationToken cancellationToken = default) =>
        Record(response, request.Remote);

    private ValueTask<bool> Record(SipMessage message, SipEndPoint destination)
    {
        if (Fail) return ValueTask.FromResult(false);
        lock (_sent) _sent.Add(new SentMessage(message, time.GetUtcNow() - _start, destination));
        return ValueTask.FromResult(true);
    }
}
