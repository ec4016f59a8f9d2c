using System.Net;
using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Resiliency;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Hosting;

/// <summary>
/// This pool's view of its partner: a <see cref="HealthMonitor"/> probing it with SIP OPTIONS and the
/// <see cref="DrStateMachine"/> its verdicts and the operator's commands drive. Not yet persisted or replicated:
/// each instance keeps its own view, which is what a restart forgets (issue 5 adds the store and replication).
/// </summary>
internal sealed class PartnerWatch : IAsyncDisposable
{
    private readonly SipStack _stack;
    private readonly PoolDefinition _partner;
    private readonly string _self;
    private readonly string _domain;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public PartnerWatch(SipStack stack, string self, string domain, PoolDefinition partner, DrOptions dr, HealthMonitorOptions health,
        SipMetrics metrics, TimeProvider time, ILoggerFactory loggers)
    {
        _stack = stack;
        _self = self;
        _domain = domain;
        _partner = partner;
        var logger = loggers.CreateLogger<PartnerWatch>();
        Machine = new DrStateMachine(partner.Name, dr, time);
        Monitor = new HealthMonitor(partner.Name, health, ProbeAsync, time, loggers.CreateLogger<HealthMonitor>());
        Monitor.HealthChanged += Machine.ReportHealth;
        Machine.Changed += t =>
        {
            logger.LogWarning("DR phase of {Pool}: {From} -> {To} ({Reason})", t.Pool, t.From, t.To, t.Reason);
            metrics.Increment("dr_transitions_total", "DR phase changes seen by this pool", ("pool", t.Pool), ("phase", t.To.ToString()));
        };
        _loop = Task.Run(() => Monitor.RunAsync(_stop.Token));
    }

    public DrStateMachine Machine { get; }

    public HealthMonitor Monitor { get; }

    public string Pool => _partner.Name;

    /// <summary>One OPTIONS to the partner; any response means it is alive.</summary>
    private async Task<bool> ProbeAsync(CancellationToken cancellationToken)
    {
        var target = IPEndPoint.Parse(_partner.Sip);
        var destination = new SipEndPoint(SipProtocol.Udp, target);
        var request = new SipRequest(SipMethods.Options, SipUri.Parse($"sip:{_partner.Sip}"));
        request.Headers.Add(HeaderNames.Via, _stack.Transport.CreateVia(SipProtocol.Udp, _stack.Ids.NewBranch()).ToString());
        request.Headers.Add(HeaderNames.MaxForwards, "70");
        request.Headers.Add(HeaderNames.From, $"<sip:{_self}@{_domain}>;tag={_stack.Ids.NewTag()}");
        request.Headers.Add(HeaderNames.To, $"<sip:{_partner.Sip}>");
        request.Headers.Add(HeaderNames.CallId, _stack.Ids.NewCallId(_self));
        request.Headers.Add(HeaderNames.CSeq, "1 OPTIONS");
        var transaction = await _stack.Transactions.SendRequestAsync(request, destination).ConfigureAwait(false);
        var result = await transaction.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
        return result.Response is not null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        Machine.Dispose();
        _stop.Dispose();
    }
}
