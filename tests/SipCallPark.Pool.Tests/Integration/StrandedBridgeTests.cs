using System.Net;
using SipCallPark.Pool.Hosting;
using SipCallPark.Pool.Park;
using SipCallPark.Pool.Resiliency;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>
/// A retrieve joined by bridging outlives the process that bridged it (docs/design.md §7 "Bridged calls"): its legs are
/// journaled and replicated, and the restarted pool or its backup passes one phone's BYE to the other.
/// </summary>
public sealed class StrandedBridgeTests : IntegrationTest
{
    private static readonly TimeSpan Bound = LabPhone.Bound;
    private static readonly SipUri ParkUri = SipUri.Parse("sip:park@callpark.lab");

    [Test]
    public async Task After_a_restart_a_BYE_from_the_retriever_of_a_bridged_call_reaches_the_parked_party_with_the_next_CSeq_of_its_dialog()
    {
        var lab = await StartLabAsync(persistent: true);
        var (_, bobParkLeg, _, daveCall) = await BridgeAsync(lab, lab.A);
        await WaitUntilAsync(() => lab.A.BridgeJournal.ForPool("pool-a").Count == 1);

        await lab.RestartAAsync(); // the old instance stops without a word to its calls: like a crash
        Assert.That(await lab.A.StrandedProbed.WaitAsync(Bound), Is.Zero, "both phones answer the restarted pool's probe: the bridge stays");
        var lastFromPark = bobParkLeg.Dialog.RemoteCSeq;

        await daveCall.HangUpAsync().WaitAsync(Bound);
        Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp), "dave's BYE was passed on to bob");
        Assert.Multiple(() =>
        {
            Assert.That(bobParkLeg.Dialog.RemoteCSeq, Is.EqualTo(lastFromPark + 1), "the BYE took the CSeq right above the park's last request");
            Assert.That(lab.A.BridgeJournal.ForPool("pool-a"), Is.Empty, "the bridge left the journal");
            Assert.That(lab.A.Metrics.Count("park_stranded_bridges_ended_total", ("how", "relayed")), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task A_retriever_that_hung_up_while_the_pool_was_down_is_found_gone_by_the_restarted_pool_which_BYEs_the_parked_party()
    {
        var lab = await StartLabAsync(persistent: true);
        var (_, bobParkLeg, _, daveCall) = await BridgeAsync(lab, lab.A);
        await WaitUntilAsync(() => lab.A.BridgeJournal.ForPool("pool-a").Count == 1);

        await lab.A.DisposeAsync(); // down, like a crash
        _ = daveCall.HangUpAsync(); // dave's BYE goes to nobody
        Assert.That(daveCall.IsEnded, Is.True);
        await lab.RestartAAsync();

        Assert.That(await lab.A.StrandedProbed.WaitAsync(Bound), Is.EqualTo(1));
        Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp), "bob is not left in a call with nobody");
        Assert.Multiple(() =>
        {
            Assert.That(lab.A.BridgeJournal.ForPool("pool-a"), Is.Empty);
            Assert.That(lab.A.Metrics.Count("park_stranded_bridges_ended_total", ("how", "probe")), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task When_the_bridging_pool_fails_its_backup_passes_the_parked_partys_BYE_to_the_retriever_but_not_a_forged_one()
    {
        var lab = await StartLabAsync(bothPools: true, replication: true);
        var (bob, bobParkLeg, _, daveCall) = await BridgeAsync(lab, lab.A);
        await WaitUntilAsync(() => lab.B!.Replicas.BridgesOf("pool-a") is [{ } r] && r.Parked.CallId == bobParkLeg.CallId
                                                                             && r.Retriever.CallId == daveCall.CallId);
        var lastToDave = daveCall.Dialog.RemoteCSeq;
        var pool = lab.AddressOf("pool-b");

        // Before the outage pool-b takes nothing for pool-a: the park it names is pool-a's.
        var early = await HangUpAtAsync(bob, bobParkLeg, pool);
        Assert.That(early.StatusCode, Is.Not.EqualTo(200), "pool-b does not answer for a healthy pool-a");

        await lab.A.DisposeAsync();
        await WaitForPhaseAsync(lab.B!.DrMachineOf("pool-a")!, DrPhase.Outage);

        var forged = await HangUpAtAsync(bob, bobParkLeg, pool, fromTag: "guessed-tag");
        Assert.That(forged.StatusCode, Is.EqualTo(481), "Call-ID alone is not enough");
        Assert.That(daveCall.IsEnded, Is.False);

        var bye = await HangUpAtAsync(bob, bobParkLeg, pool);
        Assert.That(bye.StatusCode, Is.EqualTo(200));
        Assert.That(await daveCall.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp), "bob's BYE was passed on to dave");
        Assert.Multiple(() =>
        {
            Assert.That(daveCall.Dialog.RemoteCSeq, Is.EqualTo((lastToDave ?? 0) + 1), "dave had heard nothing from the park: its first CSeq");
            Assert.That(lab.B.Replicas.BridgesOf("pool-a"), Is.Empty);
        });
    }

    [Test]
    public async Task At_the_backup_a_re_INVITE_for_a_bridged_call_of_the_failed_pool_cannot_be_passed_on_and_both_legs_get_BYE()
    {
        var lab = await StartLabAsync(bothPools: true, replication: true);
        var (_, bobParkLeg, dave, daveCall) = await BridgeAsync(lab, lab.A);
        await WaitUntilAsync(() => lab.B!.Replicas.BridgesOf("pool-a").Count == 1);
        await lab.A.DisposeAsync();
        await WaitForPhaseAsync(lab.B!.DrMachineOf("pool-a")!, DrPhase.Outage);

        var reInvite = await SendAtAsync(dave, daveCall, lab.AddressOf("pool-b"), SipMethods.Invite, dave.Sdp);

        Assert.That(reInvite.StatusCode, Is.EqualTo(481));
        Assert.Multiple(async () =>
        {
            Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
            Assert.That(await daveCall.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
        });
    }

    [Test]
    public async Task A_keepalive_is_journaled_before_it_leaves_so_the_teardown_BYE_after_a_restart_is_right_above_the_last_CSeq()
    {
        var lab = await StartLabAsync(persistent: true, park: new ParkOptions { KeepaliveInterval = TimeSpan.FromSeconds(1) });
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob");
        var (bobParkLeg, _) = await ParkBobAsync(alice, bob);
        var parkedWith = bobParkLeg.Dialog.RemoteCSeq ?? 0; // the park has sent bob nothing yet (he called it)
        await WaitUntilAsync(() => bobParkLeg.Dialog.RemoteCSeq >= parkedWith + 2); // two keepalives
        var last = bobParkLeg.Dialog.RemoteCSeq!.Value;

        await lab.RestartAAsync();

        Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
        Assert.That(bobParkLeg.Dialog.RemoteCSeq, Is.InRange(last + 1, last + 2),
            "the BYE goes right above the last keepalive (one more if a keepalive was journaled but not sent), not a guess");
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    /// <summary>alice parks bob (no Replaces) on <paramref name="pool"/>, dave retrieves him: the bridge's two legs.</summary>
    private static async Task<(LabPhone Bob, SipCall BobParkLeg, LabPhone Dave, SipCall DaveCall)> BridgeAsync(LabPools lab, PoolServer pool)
    {
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob", supportsReplaces: false);
        var dave = await RegisteredPhoneAsync(lab, "dave");
        var (bobParkLeg, orbit) = await ParkBobAsync(alice, bob);
        var retrieve = await dave.CallAsync(SipUri.Parse($"sip:{orbit}@callpark.lab"));
        Assert.That(retrieve.IsSuccess, Is.True, retrieve.ToString());
        await WaitUntilAsync(() => pool.Park.ActiveBridges == 1);
        return (bob, bobParkLeg, dave, retrieve.Call!);
    }

    private static async Task<(SipCall BobParkLeg, string Orbit)> ParkBobAsync(LabPhone alice, LabPhone bob)
    {
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
        var followed = new TaskCompletionSource<CallAttempt>(TaskCreationOptions.RunContinuationsAsynchronously);
        bobCall.OnRefer = async refer => followed.TrySetResult(await refer.FollowAsync(bob.Sdp));
        var transfer = await aliceCall.ReferAsync(new NameAddress(ParkUri), alice.Agent.Identity).WaitAsync(Bound);
        Assert.That(transfer.Succeeded, Is.True, transfer.ToString());
        var attempt = await followed.Task.WaitAsync(Bound);
        Assert.That(attempt.IsSuccess, Is.True, attempt.ToString());
        var notice = await alice.NextMessageAsync();
        Assert.That(notice.BodyText, Does.Contain("parked on orbit"));
        await aliceCall.HangUpAsync().WaitAsync(Bound);
        return (attempt.Call!, notice.Headers.Get(ParkApplication.OrbitHeader)!);
    }

    /// <summary>A BYE in <paramref name="call"/> sent to <paramref name="pool"/> (a phone that moved to the backup).</summary>
    private static Task<ClientTransactionResult> HangUpAtAsync(LabPhone phone, SipCall call, IPEndPoint pool, string? fromTag = null) =>
        SendAtAsync(phone, call, pool, SipMethods.Bye, null, fromTag);

    private static async Task<ClientTransactionResult> SendAtAsync(LabPhone phone, SipCall call, IPEndPoint pool, string method, string? sdp,
        string? fromTag = null)
    {
        SipRequest request;
        lock (call.Dialog) request = call.Dialog.CreateRequest(method);
        if (fromTag is not null) request.Headers.Set(HeaderNames.From, call.Dialog.LocalAddress.WithTag(fromTag).ToString());
        if (sdp is not null) request.SetBody("application/sdp", System.Text.Encoding.UTF8.GetBytes(sdp));
        if (method == SipMethods.Invite) request.Headers.Add(HeaderNames.Contact, $"<{phone.Contact}>");
        var destination = new SipEndPoint(SipProtocol.Udp, pool);
        phone.Agent.AddVia(request, destination);
        if (method == SipMethods.Invite)
        {
            var invite = await phone.Stack.Transactions.SendInviteAsync(request, destination);
            return await invite.Completion.WaitAsync(Bound);
        }
        var transaction = await phone.Stack.Transactions.SendRequestAsync(request, destination);
        return await transaction.Completion.WaitAsync(Bound);
    }

    private static async Task WaitForPhaseAsync(DrStateMachine machine, DrPhase phase)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        machine.Changed += t => { if (t.To == phase) reached.TrySetResult(); };
        if (machine.Phase == phase) return;
        await reached.Task.WaitAsync(Bound);
    }
}
