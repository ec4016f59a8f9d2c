using System.Collections.Concurrent;
using System.Diagnostics;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.ParkLoad;

/// <summary>The steps of a cycle, in order; a failed cycle names the one that failed.</summary>
public enum CycleStep { Park, Retrieve, HangUp, PartyReleased }

/// <summary>A call parked by way 2: bob's leg to the park and the orbit the park named in <c>X-Park-Orbit</c>.</summary>
public sealed record ParkedLeg(SipCall Leg, string Orbit);

/// <summary>How one step went: its value when it succeeded, else what the phone saw (status and Warning, or timeout).</summary>
public readonly record struct StepResult<T>(T? Value, string? Failure) where T : class
{
    public static StepResult<T> Ok(T value) => new(value, null);

    public static StepResult<T> Failed(string failure) => new(null, failure);
}

/// <summary>
/// The SIP of one park+retrieve cycle (docs/design.md §5, way 2 without a parker call, retrieval by bridge):
/// <list type="number">
/// <item>park — bob INVITEs <c>sip:park@domain</c> with <c>Referred-By: alice</c> and an offer; 200 with <c>X-Park-Orbit</c>
/// (the park also sends alice a MESSAGE);</item>
/// <item>retrieve — carol (or dave) INVITEs <c>sip:&lt;orbit&gt;@domain</c>; the park re-INVITEs bob with her offer, bob's
/// agent answers, carol gets 200;</item>
/// <item>hang up — carol's BYE gets 200;</item>
/// <item>party released — the park passes the BYE on and bob's leg ends.</item>
/// </list>
/// Every step is bounded by <see cref="LoadSettings.StepTimeout"/>; whatever answers after its bound is hung up, so a
/// slow cycle never leaves a call parked behind it.
/// </summary>
public sealed class ParkFlow(LoadLab lab)
{
    /// <summary>
    /// Parks <paramref name="calls"/> calls, at most <paramref name="concurrency"/> at a time and paced at
    /// <paramref name="rate"/> per second when it is above 0; each parked leg goes into <paramref name="parked"/>, each
    /// failure is counted by what the phone saw in <paramref name="failures"/>.
    /// </summary>
    public async Task ParkManyAsync(int calls, int concurrency, double rate, ConcurrentBag<ParkedLeg> parked,
        ConcurrentDictionary<string, int> failures, CancellationToken cancellationToken)
    {
        using var slots = new SemaphoreSlim(concurrency);
        var start = Stopwatch.GetTimestamp();
        var parks = new List<Task>(calls);
        for (var i = 0; i < calls; i++)
        {
            if (rate > 0)
            {
                var wait = TimeSpan.FromSeconds(i / rate) - Stopwatch.GetElapsedTime(start);
                if (wait > TimeSpan.FromMilliseconds(1)) await Task.Delay(wait, cancellationToken);
            }
            await slots.WaitAsync(cancellationToken);
            parks.Add(Task.Run(async () =>
            {
                try
                {
                    var park = await ParkAsync(lab.NextParked(), cancellationToken);
                    if (park.Value is { } leg) parked.Add(leg);
                    else failures.AddOrUpdate($"park: {park.Failure}", 1, (_, n) => n + 1);
                }
                finally
                {
                    slots.Release();
                }
            }, cancellationToken));
        }
        await Task.WhenAll(parks);
    }

    private TimeSpan Bound => lab.Settings.StepTimeout;

    /// <summary>Step 1 from <paramref name="party"/>: parked on an orbit, or why not.</summary>
    public async Task<StepResult<ParkedLeg>> ParkAsync(LoadPhone party, CancellationToken cancellationToken)
    {
        var dial = party.Agent.Dial(lab.ParkUri, new CallOptions { Sdp = party.Sdp, ReferredBy = lab.Parker.Identity });
        var (attempt, failure) = await AnsweredAsync(dial, cancellationToken);
        if (attempt is null) return StepResult<ParkedLeg>.Failed(failure!);
        if (attempt.Response!.Headers.Get("X-Park-Orbit") is not { Length: > 0 } orbit)
        {
            await attempt.Call!.HangUpAsync();
            return StepResult<ParkedLeg>.Failed("200 without X-Park-Orbit");
        }
        return StepResult<ParkedLeg>.Ok(new ParkedLeg(attempt.Call!, orbit));
    }

    /// <summary>Step 2 from <paramref name="retriever"/>: the call to the orbit, answered.</summary>
    public async Task<StepResult<SipCall>> RetrieveAsync(LoadPhone retriever, string orbit, CancellationToken cancellationToken)
    {
        var dial = retriever.Agent.Dial(lab.OrbitUri(orbit), new CallOptions { Sdp = retriever.Sdp });
        var (attempt, failure) = await AnsweredAsync(dial, cancellationToken);
        return attempt is null ? StepResult<SipCall>.Failed(failure!) : StepResult<SipCall>.Ok(attempt.Call!);
    }

    /// <summary>Steps 3 and 4: the retriever hangs up and the park passes the BYE to the parked party.</summary>
    public async Task<(CycleStep Step, string? Failure)> HangUpAsync(SipCall retrieverLeg, SipCall parkedLeg, CancellationToken cancellationToken)
    {
        ClientTransactionResultView bye;
        try
        {
            var result = await retrieverLeg.HangUpAsync().WaitAsync(Bound, cancellationToken);
            bye = new(result?.IsSuccess == true, result?.ToString() ?? "call already ended");
        }
        catch (TimeoutException)
        {
            bye = new(false, "timeout");
        }
        if (!bye.Ok)
        {
            await ReleaseAsync(parkedLeg);
            return (CycleStep.HangUp, bye.Text);
        }
        try
        {
            var reason = await parkedLeg.Ended.WaitAsync(Bound, cancellationToken);
            return reason == CallEndReason.RemoteHangUp ? (CycleStep.PartyReleased, null) : (CycleStep.PartyReleased, $"ended {reason}");
        }
        catch (TimeoutException)
        {
            await ReleaseAsync(parkedLeg);
            return (CycleStep.PartyReleased, "no BYE from the park");
        }
    }

    /// <summary>Hangs up a leg we still hold (a cycle that failed part-way), bounded; the pool frees the orbit.</summary>
    public async Task ReleaseAsync(SipCall leg)
    {
        if (leg.IsEnded) return;
        try
        {
            await leg.HangUpAsync().WaitAsync(Bound);
        }
        catch (TimeoutException)
        {
        }
    }

    private async Task<(CallAttempt? Attempt, string? Failure)> AnsweredAsync(OutgoingCall dial, CancellationToken cancellationToken)
    {
        CallAttempt attempt;
        try
        {
            attempt = await dial.Completion.WaitAsync(Bound, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Answered after all? Then hang up, so nothing stays parked or bridged behind us.
            _ = dial.Completion.ContinueWith(t => t.Result.Call?.HangUpAsync() ?? Task.CompletedTask, TaskScheduler.Default).Unwrap();
            return (null, "timeout");
        }
        if (attempt.IsSuccess) return (attempt, null);
        var warning = attempt.Response?.Headers.Get(HeaderNames.Warning);
        return (null, warning is null ? attempt.ToString() : $"{attempt} ({warning})");
    }

    private readonly record struct ClientTransactionResultView(bool Ok, string Text);
}
