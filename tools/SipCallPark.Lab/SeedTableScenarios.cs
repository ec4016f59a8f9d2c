using SipCallPark.Sip.Message;

namespace SipCallPark.Lab;

/// <summary>
/// The nine cells of the seed table (docs/design.md §6) as scenarios on two real pool processes. Each starts a fresh pair,
/// puts a call in the row's state with lab phones, drives the column's DR step (pool-a killed with SIGKILL; failover
/// and failback through pool-b's admin API) and records what the phones see.
/// </summary>
internal static class SeedTableScenarios
{
    public static async Task<CellResult> RunAsync(SeedCell cell, LabSettings settings)
    {
        await using var run = new CellRun(settings, cell);
        try
        {
            await run.Pools.StartAsync();
            await ScenarioOf(cell)(run);
            return run.Result(null);
        }
        catch (Exception e)
        {
            return run.Result($"{e.GetType().Name}: {e.Message}");
        }
    }

    private static Func<CellRun, Task> ScenarioOf(SeedCell cell) => (cell.Row, cell.Column) switch
    {
        (CallState.NotYetParked, DrMoment.Outage) => NotYetParkedAtOutageAsync,
        (CallState.NotYetParked, DrMoment.Failover) => NotYetParkedDuringFailoverAsync,
        (CallState.NotYetParked, DrMoment.Failback) => NotYetParkedDuringFailbackAsync,
        (CallState.ParkedNotYetRetrieved, DrMoment.Outage) => ParkedAtOutageAsync,
        (CallState.ParkedNotYetRetrieved, DrMoment.Failover) => ParkedDuringFailoverAsync,
        (CallState.ParkedNotYetRetrieved, DrMoment.Failback) => ParkedDuringFailbackAsync,
        (CallState.ParkedAndRetrieved, DrMoment.Outage) => RetrievedAtOutageAsync,
        (CallState.ParkedAndRetrieved, DrMoment.Failover) => RetrievedDuringFailoverAsync,
        _ => RetrievedDuringFailbackAsync,
    };

    // ---- not yet parked ---------------------------------------------------------------------------------------------

    /// <summary>alice and bob talk through pool-a; pool-a dies; alice moves to pool-b (resiliency) and tries to park bob.</summary>
    private static async Task NotYetParkedAtOutageAsync(CellRun run)
    {
        await run.MarkReplicationAsync();
        var alice = await run.PhoneAsync("alice", run.A);
        var bob = await run.PhoneAsync("bob", run.A);
        var (aliceCall, bobCall) = await alice.ConnectAsync(bob);
        CallWatch[] call = [new("alice", aliceCall), new("bob", bobCall)];

        await run.KillPrimaryAndDetectAsync();
        var moved = await alice.RegisterAsync(run.B);
        run.See(moved.StatusCode == 200 && CellRun.ModeOf(moved) == "resiliency",
            $"alice re-REGISTERs at pool-b → {moved.StatusCode} {CellRun.ModeOf(moved)}");
        // The call's own route runs through the dead pool-a, so the park request goes to pool-b: way 1, REFER to the park server.
        var park = await alice.ParkByReferAsync(aliceCall, "bob", run.B);
        run.See(CellRun.RefusedKeepingCall(park), $"park (REFER to park via pool-b) → {CellRun.Refusal(park)}");
        if (CellRun.RefusedKeepingCall(park)) await SeeToldRefusedAsync(run, alice);
        await run.SeeStayingUpAsync("after the outage", call);
    }

    /// <summary>While pool-a fails over, its users at pool-b can hold and transfer but not park; once failed over they park on pool-b's orbits.</summary>
    private static async Task NotYetParkedDuringFailoverAsync(CellRun run)
    {
        await run.KillPrimaryAndDetectAsync();
        var command = await run.StartFailoverAsync();
        var alice = await run.PhoneAsync("alice", run.B, "resiliency");
        var bob = await run.PhoneAsync("bob", run.B, "resiliency");
        var carol = await run.PhoneAsync("carol", run.B, "resiliency");
        await NoParkButHoldAndTransferAsync(run, alice, bob, carol, "FailingOver");
        await run.CompleteFailoverAsync(command);

        await ParkAndRetrieveAsync(run, alice, bob, carol, run.B, "71");
    }

    /// <summary>pool-a returns and fails back: its users, home again, are in resiliency mode (no park) until failback completes.</summary>
    private static async Task NotYetParkedDuringFailbackAsync(CellRun run)
    {
        await run.KillPrimaryAndDetectAsync();
        await run.CompleteFailoverAsync(await run.StartFailoverAsync());
        var command = await run.RestartPrimaryAndStartFailbackAsync();
        var alice = await run.PhoneAsync("alice", run.A, "resiliency");
        var bob = await run.PhoneAsync("bob", run.A, "resiliency");
        var carol = await run.PhoneAsync("carol", run.A, "resiliency");
        await NoParkButHoldAndTransferAsync(run, alice, bob, carol, "FailingBack");
        await run.CompleteFailbackAsync(command);

        await ParkAndRetrieveAsync(run, alice, bob, carol, run.A, "70");
    }

    // ---- parked, not yet retrieved ----------------------------------------------------------------------------------

    /// <summary>bob is parked on pool-a when pool-a dies: pool-b BYEs him (it has his park dialog by replication).</summary>
    private static async Task ParkedAtOutageAsync(CellRun run)
    {
        var (parked, alice) = await ParkOnPrimaryAsync(run);
        await run.KillPrimaryAndDetectAsync();
        var byed = await run.WaitForByeAsync(parked, run.Settings.Bound / 2);
        run.See(byed, byed ? $"bob's park leg got BYE {run.Timings.OrphansByed} ms after the kill" : $"bob's park leg got no BYE within {run.Settings.Bound.TotalSeconds / 2:0} s of the outage");
        if (!byed) return;
        // docs/design.md §5 case 1: the backup also tells the parker, whom it reaches through her replicated binding.
        var told = await alice.TryNextMessageAsync();
        run.See(told?.Headers.Get("X-Park-Orbit") == "7000", told is null ? "alice was not told" : $"alice told: \"{told.BodyText.Trim()}\"");
    }

    /// <summary>By the time failover runs, the outage has disconnected every parked call: nothing of pool-a is parked anywhere.</summary>
    private static async Task ParkedDuringFailoverAsync(CellRun run)
    {
        var (parked, _) = await ParkOnPrimaryAsync(run);
        await run.KillPrimaryAndDetectAsync();
        var byed = await run.WaitForByeAsync(parked, run.Settings.Bound / 2);
        var command = await run.StartFailoverAsync();
        run.See(byed, byed ? "bob's park leg was BYE'd at the outage, before failover" : "bob is still parked (no BYE) when failover starts");
        await run.CompleteFailoverAsync(command);

        var carol = await run.PhoneAsync("carol", run.B);
        var retrieve = await carol.CallAsync(SipUri.Parse($"sip:7000@{LabPhone.Domain}"));
        run.See(retrieve.StatusCode == 404, $"after failover carol at pool-b dials 7000 → {retrieve.StatusCode}");
        var listed = await run.B.ParkedOrbitsAsync();
        run.See(listed.Length == 0, $"pool-b /parked lists {(listed.Length == 0 ? "nothing" : string.Join(", ", listed))}");
    }

    /// <summary>bob parked on pool-b while pool-a is failed over stays parked through failback and is retrieved through pool-a after it.</summary>
    private static async Task ParkedDuringFailbackAsync(CellRun run)
    {
        await run.KillPrimaryAndDetectAsync();
        await run.CompleteFailoverAsync(await run.StartFailoverAsync());
        var alice = await run.PhoneAsync("alice", run.B);
        var bob = await run.PhoneAsync("bob", run.B);
        var (aliceCall, bobCall) = await alice.ConnectAsync(bob);
        var park = await alice.ParkByBlindTransferAsync(aliceCall, bob, bobCall);
        run.See(park.Parked && park.Orbit!.StartsWith("71", StringComparison.Ordinal), $"bob {park} at pool-b (failed over)");
        if (!park.Parked) return;
        var parked = new CallWatch("bob's park leg", park.PartyParkLeg!);

        var command = await run.RestartPrimaryAndStartFailbackAsync();
        var during = await run.B.ParkedOrbitsAsync();
        run.See(parked.IsUp && during.Contains(park.Orbit), $"during failback: bob {(parked.IsUp ? "still parked" : "disconnected")}, pool-b lists {string.Join(", ", during)}");
        await run.CompleteFailbackAsync(command);
        await run.SeeStayingUpAsync("through failback", parked);

        var carol = await run.PhoneAsync("carol", run.A);
        var retrieve = await carol.CallAsync(SipUri.Parse($"sip:{park.Orbit}@{LabPhone.Domain}"));
        run.See(retrieve.IsSuccess, $"after failback carol (home at pool-a) retrieves {park.Orbit} → {retrieve.StatusCode}");
    }

    // ---- parked and already retrieved -------------------------------------------------------------------------------

    private static async Task RetrievedAtOutageAsync(CellRun run)
    {
        var retrieved = await ParkAndRetrieveOnPrimaryAsync(run);
        await run.KillPrimaryAndDetectAsync();
        await run.SeeStayingUpAsync("after the outage", retrieved);
    }

    private static async Task RetrievedDuringFailoverAsync(CellRun run)
    {
        var retrieved = await ParkAndRetrieveOnPrimaryAsync(run);
        await run.KillPrimaryAndDetectAsync();
        await run.CompleteFailoverAsync(await run.StartFailoverAsync());
        await run.SeeStayingUpAsync("from the outage through failover", retrieved);
    }

    /// <summary>A call parked and retrieved on pool-b while pool-a is failed over stays up while pool-a returns and fails back.</summary>
    private static async Task RetrievedDuringFailbackAsync(CellRun run)
    {
        await run.KillPrimaryAndDetectAsync();
        await run.CompleteFailoverAsync(await run.StartFailoverAsync());
        var retrieved = await ParkAndRetrieveAsync(run, run.B, "71");
        if (retrieved.Length == 0) return;
        await run.CompleteFailbackAsync(await run.RestartPrimaryAndStartFailbackAsync());
        await run.SeeStayingUpAsync("through pool-a's return and failback", retrieved);
    }

    // ---- steps ------------------------------------------------------------------------------------------------------

    /// <summary>The parker of a refused park is told why by a MESSAGE (taken here, so a later park's orbit notice is next).</summary>
    private static async Task SeeToldRefusedAsync(CellRun run, LabPhone parker)
    {
        var told = await parker.TryNextMessageAsync();
        var text = told is null ? null : System.Text.Encoding.UTF8.GetString(told.Body.Span);
        run.See(text is not null && text.StartsWith("Call park is unavailable in resiliency mode", StringComparison.Ordinal),
            text is null ? $"{parker.User} told nothing" : $"{parker.User} told: \"{text}\"");
    }

    /// <summary>In resiliency mode: park by blind transfer refused keeping the call (202, subscription ended); hold (re-INVITE sendonly) 200; transfer to carol works.</summary>
    private static async Task NoParkButHoldAndTransferAsync(CellRun run, LabPhone alice, LabPhone bob, LabPhone carol, string phase)
    {
        var (aliceCall, bobCall) = await alice.ConnectAsync(bob);
        var park = await alice.ParkByBlindTransferAsync(aliceCall, bob, bobCall);
        var refused = !park.Parked && CellRun.RefusedKeepingCall(park.Transfer);
        run.See(refused, $"park (blind transfer to park via {alice.Pool.Name}) → {CellRun.Refusal(park.Transfer)}");
        if (refused) await SeeToldRefusedAsync(run, alice);
        var hold = await aliceCall.ReInviteAsync(alice.HoldSdp).WaitAsync(LabPhone.Bound);
        run.See(hold.StatusCode == 200, $"hold → {hold.StatusCode}");
        var (transfer, followed) = await alice.BlindTransferAsync(aliceCall, bob, bobCall, LabPhone.Aor(carol.User));
        var transferred = transfer.Succeeded && followed is { IsSuccess: true };
        if (transferred) await carol.NextAnsweredAsync();
        run.See(transferred, $"transfer to carol → {(transferred ? "bob talks to carol" : $"REFER {transfer.ReferStatus}, INVITE {followed?.StatusCode}")}");
        var now = await run.PhaseOfPrimaryAtBackupAsync();
        run.See(now == phase, $"(checked while pool-a was {now})");
    }

    /// <summary>Re-registered normally at <paramref name="pool"/>: alice parks bob (an orbit starting <paramref name="orbitPrefix"/>), carol retrieves it.</summary>
    private static async Task ParkAndRetrieveAsync(CellRun run, LabPhone alice, LabPhone bob, LabPhone carol, LabPool pool, string orbitPrefix)
    {
        foreach (var phone in new[] { alice, bob, carol })
        {
            var again = await phone.RegisterAsync();
            if (CellRun.ModeOf(again) != "normal") run.See(false, $"{phone.User} re-REGISTER at {pool.Name} → {again.StatusCode} {CellRun.ModeOf(again)}");
        }
        var (aliceCall, bobCall) = await alice.ConnectAsync(bob);
        var park = await alice.ParkByBlindTransferAsync(aliceCall, bob, bobCall);
        run.See(park.Parked && park.Orbit!.StartsWith(orbitPrefix, StringComparison.Ordinal), $"then park → {park}");
        if (!park.Parked) return;
        var retrieve = await carol.CallAsync(SipUri.Parse($"sip:{park.Orbit}@{LabPhone.Domain}"));
        run.See(retrieve.IsSuccess, $"carol retrieves {park.Orbit} → {retrieve.StatusCode}");
    }

    /// <summary>alice, bob and carol at <paramref name="pool"/>: bob parked by alice and retrieved by carol; the two legs to watch.</summary>
    private static async Task<CallWatch[]> ParkAndRetrieveAsync(CellRun run, LabPool pool, string orbitPrefix)
    {
        var alice = await run.PhoneAsync("alice", pool);
        var bob = await run.PhoneAsync("bob", pool);
        var carol = await run.PhoneAsync("carol", pool);
        var (aliceCall, bobCall) = await alice.ConnectAsync(bob);
        var park = await alice.ParkByBlindTransferAsync(aliceCall, bob, bobCall);
        run.See(park.Parked && park.Orbit!.StartsWith(orbitPrefix, StringComparison.Ordinal), $"bob {park} at {pool.Name}");
        if (!park.Parked) return [];
        var retrieve = await carol.CallAsync(SipUri.Parse($"sip:{park.Orbit}@{LabPhone.Domain}"));
        run.See(retrieve.IsSuccess, $"carol retrieves {park.Orbit} → {retrieve.StatusCode} (bridged)");
        if (!retrieve.IsSuccess) return [];
        return [new("bob", park.PartyParkLeg!), new("carol", retrieve.Call!)];
    }

    private static async Task<CallWatch[]> ParkAndRetrieveOnPrimaryAsync(CellRun run)
    {
        await run.MarkReplicationAsync();
        var retrieved = await ParkAndRetrieveAsync(run, run.A, "70");
        return retrieved.Length > 0 ? retrieved : throw new LabException("the call could not be parked and retrieved on pool-a");
    }

    /// <summary>alice parks bob on pool-a (orbit 70xx); bob's leg with the park, to watch for the BYE.</summary>
    private static async Task<(CallWatch Parked, LabPhone Parker)> ParkOnPrimaryAsync(CellRun run)
    {
        await run.MarkReplicationAsync();
        var alice = await run.PhoneAsync("alice", run.A);
        var bob = await run.PhoneAsync("bob", run.A);
        var (aliceCall, bobCall) = await alice.ConnectAsync(bob);
        var park = await alice.ParkByBlindTransferAsync(aliceCall, bob, bobCall);
        run.See(park.Parked && park.Orbit!.StartsWith("70", StringComparison.Ordinal), $"bob {park} at pool-a");
        return park.Parked ? (new CallWatch("bob's park leg", park.PartyParkLeg!), alice) : throw new LabException($"bob could not be parked on pool-a: {park}");
    }
}
