using System.Net;
using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Pairing;
using SipCallPark.Pool.Resiliency;
using SipCallPark.Pool.State;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Hosting;

/// <summary>
/// This pool's view of its partner: a <see cref="HealthMonitor"/> probing it with SIP OPTIONS and the
/// <see cref="DrStateMachine"/> its verdicts and the operator's commands drive, persisted in the state store so a
/// restart resumes the phase. The partner's answers carry <c>X-DR-Phase</c>, the phases it drives; the one it gives
/// this pool is how a pool that comes back learns that it was failed over (and must send its users to the backup).
/// Probes are signed and only a signed answer of the partner is believed (docs/design.md §11 "Trust"): anyone else
/// answering at its address shows that something answers, never what phase this pool is in.
/// </summary>
internal sealed class PartnerWatch : IAsyncDisposable
{
    private readonly SipStack _stack;
    private readonly PoolDefinition _partner;
    private readonly string _self;
    private readonly string _domain;
    private readonly PartnerTracking _tracking;

    public const string PhaseHeader = PartnerAuthenticator.DrPhaseHeader;

    private readonly PartnerAuthenticator _authenticator;

    private readonly DrPhaseStore _phases;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public PartnerWatch(SipStack stack, string self, string domain, PoolDefinition partner, DrOptions dr, HealthMonitorOptions health,
        SipMetrics metrics, DrPhaseStore phases, PartnerAuthenticator authenticator, IPoolLoad load, TimeProvider time, ILoggerFactory loggers)
    {
        _authenticator = authenticator;
        _stack = stack;
        _self = self;
        _domain = domain;
        _partner = partner;
        _phases = phases;
        _time = time;
        _logger = loggers.CreateLogger<PartnerWatch>();
        var stored = phases.Load(partner.Name);
        _tracking = new PartnerTracking(partner.Name, dr, health, ProbeAsync, load, stored, time, loggers.CreateLogger<HealthMonitor>());
        if (stored is { Phase: not DrPhase.Normal })
            _logger.LogWarning("DR phase of {PartnerPool} restored from the state store: {Phase} since {Since:O}; it counts as down until it answers",
                partner.Name, stored.Phase, stored.Since);
        OwnPhase = phases.Load(self)?.Phase ?? DrPhase.Normal;
        Machine.Changed += t =>
        {
            _logger.LogWarning("DR phase of {PartnerPool}: {From} -> {To} ({Reason})", t.Pool, t.From, t.To, t.Reason);
            metrics.Increment("dr_transitions_total", "DR phase changes seen by this pool", ("pool", t.Pool), ("phase", t.To.ToString()));
            phases.Save(new StoredDrPhase(t.Pool, t.To, t.At));
        };
        _tracking.Start();
    }

    /// <summary>This pool's own phase as the partner (its backup) last reported it, or as stored before a restart.</summary>
    public DrPhase OwnPhase { get; private set; }

    /// <summary>Reads the partner's <c>X-DR-Phase</c> (<c>pool-a=FailedOver, pool-b=Normal</c>) for this pool's own
    /// phase, believed only when the answer carries the partner's valid signature.</summary>
    private void LearnOwnPhase(SipResponse response, PartnerVerdict verdict)
    {
        var claim = response.Headers.Get(PhaseHeader);
        if (PartnerPhaseClaim.Believe(claim, _self, verdict) is not { } phase)
        {
            if (claim is not null && verdict != PartnerVerdict.Valid && PartnerPhaseClaim.Read(claim, _self) is { } ignored && ignored != OwnPhase)
                _logger.LogWarning("Ignored an answer at {Partner}'s address claiming this pool ({Self}) is {Phase}: its signature is {Verdict}",
                    _partner.Name, _self, ignored, verdict);
            return;
        }
        if (phase == OwnPhase) return;
        _logger.LogWarning("{Partner} reports this pool ({Self}) as {Phase} (was {Previous})", _partner.Name, _self, phase, OwnPhase);
        OwnPhase = phase;
        _phases.Save(new StoredDrPhase(_self, phase, _time.GetUtcNow()));
    }

    public DrStateMachine Machine => _tracking.Machine;

    public HealthMonitor Monitor => _tracking.Monitor;

    public string Pool => _partner.Name;

    /// <summary>
    /// One probe: an OPTIONS transaction to the partner over UDP, retransmitted by the transaction layer (Timer E) until
    /// it is answered or Timer F ends it; its failure is the monitor's to report, so the transaction logs it at Debug.
    /// </summary>
    private async Task<bool> ProbeAsync(CancellationToken cancellationToken)
    {
        var destination = new SipEndPoint(SipProtocol.Udp, IPEndPoint.Parse(_partner.Sip));
        var transaction = await _stack.Transactions.SendRequestAsync(BuildProbe(), destination, LogLevel.Debug).ConfigureAwait(false);
        var result = await transaction.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
        return result.Response is { } response && JudgeAnswer(response);
    }

    /// <summary>The OPTIONS a probe sends.</summary>
    private SipRequest BuildProbe()
    {
        var request = new SipRequest(SipMethods.Options, SipUri.Parse($"sip:{_partner.Sip}"));
        request.Headers.Add(HeaderNames.Via, _stack.Transport.CreateVia(SipProtocol.Udp, _stack.Ids.NewBranch()).ToString());
        request.Headers.Add(HeaderNames.MaxForwards, "70");
        request.Headers.Add(HeaderNames.From, $"<sip:{_self}@{_domain}>;tag={_stack.Ids.NewTag()}");
        request.Headers.Add(HeaderNames.To, $"<sip:{_partner.Sip}>");
        request.Headers.Add(HeaderNames.CallId, _stack.Ids.NewCallId(_self));
        request.Headers.Add(HeaderNames.CSeq, "1 OPTIONS");
        _authenticator.Sign(request);
        return request;
    }

    /// <summary>
    /// Whether a final response to a probe shows the partner alive, learning this pool's phase from it. With a partner
    /// secret only the partner's signed answer counts (docs/design.md §11): an impostor bound to a dead partner's
    /// address must not hide its outage.
    /// </summary>
    private bool JudgeAnswer(SipResponse response)
    {
        var verdict = _authenticator.Verify(response, _partner.Name);
        LearnOwnPhase(response, verdict);
        if (!_authenticator.HasSecret || verdict == PartnerVerdict.Valid) return true;
        _logger.LogDebug("An answer to the probe of {Partner} was not signed by it ({Verdict}): not counted", _partner.Name, verdict);
        return false;
    }

    public ValueTask DisposeAsync()
    {
        _tracking.Dispose();
        return ValueTask.CompletedTask;
    }
}
