using SipCallPark.Lab;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Tests.Hosting;

/// <summary>
/// docs/design.md §7 "Bridged calls" with two real pool processes: a retrieve joined by bridging (the lab phones have no
/// Replaces) on pool-a, pool-a killed with SIGKILL, and one phone hanging up. Its BYE must reach the other phone within
/// 2 s, passed on by pool-b (which has both legs by replication) or by pool-a restarted on its journal.
/// </summary>
[Platform("Linux")]
[NonParallelizable]
public class BridgeOutageProcessTests
{
    private static readonly TimeSpan ByeWithin = TimeSpan.FromSeconds(2);

    private static LabSettings Settings => new()
    {
        PoolDll = Path.Combine(AppContext.BaseDirectory, "SipCallPark.dll"),
        ConfigDirectory = RepositoryPaths.Config(""),
    };

    private static SeedCell Cell => SeedCell.All.Single(c => c is { Row: CallState.ParkedAndRetrieved, Column: DrMoment.Outage });

    [Test]
    public async Task After_a_kill_9_of_the_bridging_pool_the_retrievers_BYE_at_the_backup_reaches_the_parked_party_within_2_s()
    {
        await using var run = new CellRun(Settings, Cell);
        await run.Pools.StartAsync();
        var (bob, bobLeg, carol, carolCall) = await BridgeOnPrimaryAsync(run);

        run.A.Kill();
        await run.B.WaitForPhaseAsync(run.A.Name, "Outage");
        Assert.That(bobLeg.IsEnded || carolCall.IsEnded, Is.False, "the outage alone ends neither phone's call");

        var bye = await SendByeAsync(carol, carolCall, run.B);

        Assert.That(bye.StatusCode, Is.EqualTo(200), run.Pools.Output);
        Assert.That(await bobLeg.Ended.WaitAsync(ByeWithin), Is.EqualTo(CallEndReason.RemoteHangUp), "pool-b passed carol's BYE on to bob");
        _ = bob;
    }

    [Test]
    public async Task After_a_kill_9_and_a_restart_of_the_bridging_pool_the_parked_partys_BYE_reaches_the_retriever_within_2_s()
    {
        await using var run = new CellRun(Settings, Cell);
        await run.Pools.StartAsync();
        var (_, bobLeg, _, carolCall) = await BridgeOnPrimaryAsync(run);

        run.A.Kill(); // SIGKILL, and waits until the process is gone
        Assert.That(run.A.Process!.HasExited, Is.True);
        await run.A.StartAsync();

        // bob's BYE goes where his dialog says: the park at pool-a's address, now the restarted process.
        var bye = await bobLeg.HangUpAsync().WaitAsync(SipCallPark.Lab.LabPhone.Bound);

        Assert.That(bye?.StatusCode, Is.EqualTo(200), run.Pools.Output);
        Assert.That(await carolCall.Ended.WaitAsync(ByeWithin), Is.EqualTo(CallEndReason.RemoteHangUp), "restarted pool-a passed bob's BYE on to carol");
    }

    /// <summary>alice parks bob on pool-a, carol retrieves him (bridged); returns once pool-a's replication has gone quiet.</summary>
    private static async Task<(SipCallPark.Lab.LabPhone Bob, SipCall BobLeg, SipCallPark.Lab.LabPhone Carol, SipCall CarolCall)> BridgeOnPrimaryAsync(CellRun run)
    {
        var alice = await run.PhoneAsync("alice", run.A);
        var bob = await run.PhoneAsync("bob", run.A);
        var carol = await run.PhoneAsync("carol", run.A);
        var (aliceCall, bobCall) = await alice.ConnectAsync(bob);
        var park = await alice.ParkByBlindTransferAsync(aliceCall, bob, bobCall);
        Assert.That(park.Parked, Is.True, park.ToString());
        var before = (await run.A.ReplicationAsync())!.Value.Accepted;
        var retrieve = await carol.CallAsync(SipUri.Parse($"sip:{park.Orbit}@{SipCallPark.Lab.LabPhone.Domain}"));
        Assert.That(retrieve.IsSuccess, Is.True, retrieve.ToString());
        Assert.That(await run.A.WaitForReplicationAsync(before), Is.True, "pool-a replicates");
        Assert.That(run.Observations.Where(o => !o.Held), Is.Empty);
        return (bob, park.PartyParkLeg!, carol, retrieve.Call!);
    }

    /// <summary>A BYE in <paramref name="call"/> sent to <paramref name="pool"/>: a phone that turned to the backup (DNS SRV, a second proxy).</summary>
    private static async Task<ClientTransactionResult> SendByeAsync(SipCallPark.Lab.LabPhone phone, SipCall call, LabPool pool)
    {
        SipRequest bye;
        lock (call.Dialog) bye = call.Dialog.CreateRequest(SipMethods.Bye);
        var destination = new SipEndPoint(SipProtocol.Udp, pool.SipEndPoint);
        bye.Headers.Prepend(HeaderNames.Via, phone.Stack.Transport.CreateVia(SipProtocol.Udp, phone.Stack.Ids.NewBranch()).ToString());
        var transaction = await phone.Stack.Transactions.SendRequestAsync(bye, destination);
        return await transaction.Completion.WaitAsync(SipCallPark.Lab.LabPhone.Bound);
    }
}
