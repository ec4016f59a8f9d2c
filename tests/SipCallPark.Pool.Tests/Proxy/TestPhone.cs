using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using SipCallPark.Pool.Proxy;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Tests.Proxy;

/// <summary>
/// A bare user agent for proxy tests: its own <see cref="SipStack"/> on the in-memory network, requests built by
/// hand and sent through transactions directly, and everything it receives queued for the test to await (each
/// wait bounded by <see cref="Bound"/> of real time).
/// </summary>
internal sealed class TestPhone : ITransactionUser, IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    private readonly Channel<ServerTransaction> _requests = Channel.CreateUnbounded<ServerTransaction>();
    private readonly Channel<IncomingMessage> _acks = Channel.CreateUnbounded<IncomingMessage>();
    private readonly Channel<InviteServerTransaction> _cancels = Channel.CreateUnbounded<InviteServerTransaction>();
    private readonly Channel<IncomingMessage> _additional = Channel.CreateUnbounded<IncomingMessage>();
    private readonly Channel<IncomingMessage> _strays = Channel.CreateUnbounded<IncomingMessage>();
    private int _cseq;

    private TestPhone(string user, SipStack stack, SipProtocol protocol, IPEndPoint address)
    {
        User = user;
        Stack = stack;
        Protocol = protocol;
        EndPoint = new SipEndPoint(protocol, address);
        Tag = user + "-tag";
        stack.Transport.MessageTraced += e =>
        {
            if (e.Direction == SipDirection.In && e.Message is SipResponse r) Received.Enqueue(r);
        };
    }

    public string User { get; }

    public SipStack Stack { get; }

    public SipProtocol Protocol { get; }

    public SipEndPoint EndPoint { get; }

    /// <summary>This phone's From tag, and its To tag in the answers it sends.</summary>
    public string Tag { get; }

    public SipUri Contact => Stack.Transport.ContactUri(User, Protocol);

    /// <summary>Every response that reached this phone's transport, in arrival order.</summary>
    public ConcurrentQueue<SipResponse> Received { get; } = new();

    /// <summary>What the phone does when its INVITE is cancelled: answer 487, as a user agent does (§9.2).</summary>
    public bool AnswersCancelWith487 { get; set; } = true;

    public static async Task<TestPhone> StartAsync(InMemoryNetwork network, string user, IPEndPoint address,
        TimeProvider? time = null, SipProtocol protocol = SipProtocol.Udp)
    {
        var stack = await SipStack.StartAsync([network.Attach(address, protocol)], time: time);
        var phone = new TestPhone(user, stack, protocol, address);
        stack.User = phone;
        return phone;
    }

    /// <summary>A request outside any dialog, from this phone to <paramref name="requestUri"/>.</summary>
    public SipRequest NewRequest(string method, SipUri requestUri, string callId)
    {
        var headers = new SipHeaders();
        headers.Add(HeaderNames.Via, Stack.Transport.CreateVia(Protocol, Stack.Ids.NewBranch()).ToString());
        headers.Add(HeaderNames.MaxForwards, "70");
        headers.Add(HeaderNames.From, $"<sip:{User}@callpark.lab>;tag={Tag}");
        headers.Add(HeaderNames.To, $"<{requestUri}>");
        headers.Add(HeaderNames.CallId, callId);
        headers.Add(HeaderNames.CSeq, $"{Interlocked.Increment(ref _cseq)} {method}");
        headers.Add(HeaderNames.Contact, $"<{Contact}>");
        headers.Add(HeaderNames.ContentLength, "0");
        return new SipRequest(method, requestUri, headers);
    }

    /// <summary>
    /// An in-dialog request of the caller after <paramref name="answer"/> (§12.2.1.1): to the callee's Contact,
    /// through the Record-Route set reversed. An ACK takes the INVITE's CSeq number.
    /// </summary>
    public SipRequest InDialog(string method, SipRequest invite, SipResponse answer)
    {
        var headers = new SipHeaders();
        headers.Add(HeaderNames.Via, Stack.Transport.CreateVia(Protocol, Stack.Ids.NewBranch()).ToString());
        headers.Add(HeaderNames.MaxForwards, "70");
        foreach (var route in answer.RecordRoutes.Reverse()) headers.Add(HeaderNames.Route, route.ToString());
        headers.Add(HeaderNames.From, invite.Headers.Get(HeaderNames.From)!);
        headers.Add(HeaderNames.To, answer.Headers.Get(HeaderNames.To)!);
        headers.Add(HeaderNames.CallId, invite.CallId);
        var number = method == SipMethods.Ack ? invite.CSeq.Number : Interlocked.Increment(ref _cseq);
        headers.Add(HeaderNames.CSeq, $"{number} {method}");
        headers.Add(HeaderNames.ContentLength, "0");
        return new SipRequest(method, answer.Contacts[0].Uri, headers);
    }

    /// <summary>Where a request goes first: its first Route, else its Request-URI.</summary>
    public static SipEndPoint NextHop(SipRequest request) =>
        SipCallPark.Sip.Transport.SipTargetResolver.Resolve(request.Routes.Count > 0 ? request.Routes[0].Uri : request.RequestUri)!.Value;

    public Task<bool> SendAckAsync(SipRequest ack) => Stack.Transport.SendRequestAsync(ack, NextHop(ack)).AsTask();

    /// <summary>
    /// Answers as a UAS: To tag, and for a 101–299 to an INVITE the Record-Route copied and a Contact (§12.1.1).
    /// </summary>
    public Task<bool> AnswerAsync(ServerTransaction transaction, int status, Action<SipResponse>? edit = null)
    {
        var response = SipResponse.CreateFor(transaction.Request, status, toTag: Tag);
        if (transaction.Request.IsInvite && status is > 100 and < 300)
        {
            foreach (var recordRoute in transaction.Request.Headers.GetAll(HeaderNames.RecordRoute))
                response.Headers.Add(HeaderNames.RecordRoute, recordRoute);
            response.Headers.Add(HeaderNames.Contact, $"<{Contact}>");
        }
        edit?.Invoke(response);
        return transaction.SendResponseAsync(response);
    }

    public Task<ServerTransaction> NextRequestAsync() => Next(_requests);

    public Task<IncomingMessage> NextAckAsync() => Next(_acks);

    public Task<InviteServerTransaction> NextCancelAsync() => Next(_cancels);

    public Task<IncomingMessage> NextAdditionalSuccessAsync() => Next(_additional);

    public Task<IncomingMessage> NextStrayResponseAsync() => Next(_strays);

    public int PendingAdditionalSuccesses => _additional.Reader.Count;

    public int PendingRequests => _requests.Reader.Count;

    /// <summary>The next 1xx of <paramref name="invite"/> other than 100 Trying.</summary>
    public static async Task<SipResponse> NextProvisionalAsync(ClientTransaction invite)
    {
        for (var i = 0; i < 10; i++)
        {
            var response = await invite.ProvisionalResponses.ReadAsync().AsTask().WaitAsync(Bound);
            if (response.StatusCode != 100) return response;
        }
        throw new AssertionException("Only 100 Trying arrived");
    }

    public static Task<ClientTransactionResult> FinalAsync(ClientTransaction transaction) => transaction.Completion.WaitAsync(Bound);

    private static Task<T> Next<T>(Channel<T> channel) => channel.Reader.ReadAsync().AsTask().WaitAsync(Bound);

    Task ITransactionUser.OnRequestAsync(ServerTransaction transaction) => _requests.Writer.WriteAsync(transaction).AsTask();

    Task ITransactionUser.OnAckAsync(IncomingMessage ack) => _acks.Writer.WriteAsync(ack).AsTask();

    async Task ITransactionUser.OnCancelAsync(InviteServerTransaction invite, IncomingMessage cancel)
    {
        await _cancels.Writer.WriteAsync(invite);
        if (AnswersCancelWith487) await AnswerAsync(invite, 487);
    }

    Task ITransactionUser.OnStrayResponseAsync(IncomingMessage response) => _strays.Writer.WriteAsync(response).AsTask();

    Task ITransactionUser.OnAdditionalSuccessAsync(InviteClientTransaction transaction, IncomingMessage response) =>
        _additional.Writer.WriteAsync(response).AsTask();

    Task ITransactionUser.OnServerTransactionFailedAsync(ServerTransaction transaction, TransactionFailure failure) => Task.CompletedTask;

    public ValueTask DisposeAsync() => Stack.DisposeAsync();
}
