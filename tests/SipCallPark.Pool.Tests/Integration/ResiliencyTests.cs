using SipCallPark.Pool.Resiliency;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>The seed table's rules at the backup and at a returning primary (docs/design.md §6, §7), two in-process pools.</summary>
[TestFixture]
public sealed class ResiliencyTests : IntegrationTest
{
    private static readonly TimeSpan Bound = LabPhone.Bound;
    private static readonly SipUri ParkUri = SipUri.Parse("sip:park@callpark.lab");
    private const string Refusal = "399 pool-b \"Call park is unavailable in resiliency mode\"";

    [Test]
    public async Task During_an_outage_a_user_in_resiliency_mode_cannot_park_either_way_but_hold_still_works()
    {
        var lab = await StartLabAsync(bothPools: true);
        await lab.A.DisposeAsync();
        await WaitForPhaseAsync(lab.B!.DrMachineOf("pool-a")!, DrPhase.Outage);
        var alice = await RegisteredAtBAsync(lab, "alice");
        var bob = await RegisteredAtBAsync(lab, "bob");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);

        var replaces = new ReplacesHeader(aliceCall.CallId, aliceCall.Dialog.Id.RemoteTag, aliceCall.Dialog.Id.LocalTag);
        var referToPark = await alice.Agent.ReferAsync(ParkUri,
            new NameAddress(LabPhone.Aor("bob").WithHeader(HeaderNames.Replaces, replaces.ToString())), alice.Agent.Identity).WaitAsync(Bound);
        var blindTransfer = await aliceCall.ReferAsync(new NameAddress(ParkUri), alice.Agent.Identity).WaitAsync(Bound);
        var hold = await aliceCall.ReInviteAsync(alice.Sdp.Replace("a=rtpmap:0 PCMU/8000\r\n", "a=rtpmap:0 PCMU/8000\r\na=sendonly\r\n")).WaitAsync(Bound);

        Assert.Multiple(() =>
        {
            // Accepted, then the subscription ended without a final status: no phone reads a failed transfer into it.
            Assert.That((referToPark.ReferStatus, referToPark.StatusCode), Is.EqualTo((202, 100)), "way 1: REFER to the park server");
            Assert.That(referToPark.ReferResponse!.Headers.Get(HeaderNames.Warning), Is.EqualTo(Refusal));
            Assert.That((blindTransfer.ReferStatus, blindTransfer.StatusCode), Is.EqualTo((202, 100)),
                "way 2: the in-dialog REFER towards the park address, answered where it passes the pool");
            Assert.That(blindTransfer.ReferResponse!.Headers.Get(HeaderNames.Warning), Is.EqualTo(Refusal));
            Assert.That(hold.StatusCode, Is.EqualTo(200), "hold still works");
            Assert.That(aliceCall.IsEnded || bobCall.IsEnded, Is.False, "the call stays up");
            Assert.That(lab.B.Park.OrbitsInUse, Is.Zero);
            Assert.That(bob.Requests.Any(r => r.Method == SipMethods.Refer), Is.False, "the transferee never saw the REFER");
        });
    }

    [Test]
    public async Task A_park_refused_in_resiliency_mode_ends_the_refer_subscription_with_the_warning_and_tells_the_parker_by_its_address_of_record()
    {
        var lab = await StartLabAsync(bothPools: true);
        await lab.A.DisposeAsync();
        await WaitForPhaseAsync(lab.B!.DrMachineOf("pool-a")!, DrPhase.Outage);
        var alice = await RegisteredAtBAsync(lab, "alice");
        var bob = await RegisteredAtBAsync(lab, "bob");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);

        await aliceCall.ReferAsync(new NameAddress(ParkUri), alice.Agent.Identity).WaitAsync(Bound);
        var told = await alice.NextMessageAsync();

        var notify = alice.Requests.Single(r => r.Method == SipMethods.Notify);
        Assert.Multiple(() =>
        {
            Assert.That(notify.Headers.Get(HeaderNames.SubscriptionState), Does.StartWith("terminated"));
            Assert.That(System.Text.Encoding.UTF8.GetString(notify.Body.Span), Is.EqualTo($"SIP/2.0 100 Trying\r\nWarning: {Refusal}\r\n"));
            Assert.That(notify.From.Tag, Is.EqualTo(bobCall.Dialog.Id.LocalTag), "in the transferee's name");
            Assert.That(notify.Contacts.Single().Uri.Port, Is.EqualTo(bob.Contact.Port), "the transferee's own Contact: the dialog's target is unchanged");
            Assert.That(System.Text.Encoding.UTF8.GetString(told.Body.Span), Is.EqualTo(SipCallPark.Pool.Park.ParkApplication.ResiliencyParkMessage));
            Assert.That(told.To.Uri.ToString(), Is.EqualTo("sip:alice@callpark.lab"), "the MESSAGE names the parker by its address of record");
        });
    }

    [Test]
    public async Task The_notify_of_a_refused_park_transfer_keeps_the_transferees_cseq_order_so_its_bye_still_ends_the_call()
    {
        var lab = await StartLabAsync(bothPools: true);
        await lab.A.DisposeAsync();
        await WaitForPhaseAsync(lab.B!.DrMachineOf("pool-a")!, DrPhase.Outage);
        var alice = await RegisteredAtBAsync(lab, "alice");
        var bob = await RegisteredAtBAsync(lab, "bob");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
        // bob (the callee) sends a request of his own first: his numbering is now known to the pool.
        Assert.That((await bobCall.ReInviteAsync(bob.Sdp).WaitAsync(Bound)).StatusCode, Is.EqualTo(200));
        var bobsLast = alice.Requests.Last(r => r.Method == SipMethods.Invite).CSeq.Number;

        await aliceCall.ReferAsync(new NameAddress(ParkUri), alice.Agent.Identity).WaitAsync(Bound);
        var notify = alice.Requests.Single(r => r.Method == SipMethods.Notify);
        await bobCall.HangUpAsync().WaitAsync(Bound);
        await WaitUntilAsync(() => aliceCall.IsEnded);

        Assert.That(notify.CSeq.Number, Is.EqualTo(bobsLast), "not below bob's last request (RFC 3261 §12.2.2), not above his next");
    }

    [Test]
    public async Task A_park_transfer_that_copies_a_dialogs_identifiers_under_another_users_name_gets_a_plain_403_and_makes_the_pool_speak_for_no_one()
    {
        var lab = await StartLabAsync(bothPools: true);
        await lab.A.DisposeAsync();
        await WaitForPhaseAsync(lab.B!.DrMachineOf("pool-a")!, DrPhase.Outage);
        var alice = await RegisteredAtBAsync(lab, "alice");
        var bob = await RegisteredAtBAsync(lab, "bob");
        var carol = await RegisteredAtBAsync(lab, "carol");
        var (aliceCall, _) = await ConnectAsync(alice, bob);

        // carol knows alice's dialog (Call-ID, tags, the pool's Record-Route token) and sends its REFER as herself.
        SipRequest forged;
        lock (aliceCall.Dialog) forged = aliceCall.Dialog.CreateRequest(SipMethods.Refer);
        forged.Headers.Remove(HeaderNames.From);
        forged.Headers.Add(HeaderNames.From, $"<sip:carol@callpark.lab>;tag={aliceCall.Dialog.Id.LocalTag}");
        forged.Headers.Add(HeaderNames.ReferTo, $"<{ParkUri}>");
        forged.Headers.Add(HeaderNames.Contact, $"<{carol.Contact}>");
        var answer = await carol.SendAsync(forged);

        Assert.That(answer.StatusCode, Is.EqualTo(403));
        Assert.That(alice.Requests.Concat(carol.Requests).Any(r => r.Method is SipMethods.Notify), Is.False, "no NOTIFY in anyone's name");
        Assert.That(alice.PendingMessages + carol.PendingMessages, Is.Zero, "no MESSAGE");
    }

    [Test]
    public async Task A_park_refer_naming_a_foreign_party_is_refused_403_in_resiliency_mode_too_and_nothing_is_accepted()
    {
        var lab = await StartLabAsync(bothPools: true);
        await lab.A.DisposeAsync();
        await WaitForPhaseAsync(lab.B!.DrMachineOf("pool-a")!, DrPhase.Outage);
        var alice = await RegisteredAtBAsync(lab, "alice");

        var replaces = new ReplacesHeader("no-such-call", "a", "b");
        var outcome = await alice.Agent.ReferAsync(ParkUri,
            new NameAddress(SipUri.Parse("sip:victim@127.0.0.1:9999").WithHeader(HeaderNames.Replaces, replaces.ToString())), alice.Agent.Identity).WaitAsync(Bound);

        Assert.That(outcome.ReferStatus, Is.EqualTo(403), "the Refer-To policy answers before the resiliency refusal (docs/design.md §11)");
        Assert.That(alice.PendingMessages, Is.Zero);
    }

    [Test]
    public async Task An_INVITE_to_the_park_address_naming_a_parker_in_resiliency_mode_is_refused_403()
    {
        var lab = await StartLabAsync(bothPools: true);
        await lab.A.DisposeAsync();
        await WaitForPhaseAsync(lab.B!.DrMachineOf("pool-a")!, DrPhase.Outage);
        var frank = await lab.PhoneAsync("frank", lab.B);
        Assert.That((await frank.RegisterAsync()).StatusCode, Is.EqualTo(200));

        // frank (pool-b, normal) follows a transfer whose REFER went around the pool: only Referred-By tells the parker.
        var attempt = await frank.Agent.CallAsync(ParkUri, new CallOptions { Sdp = frank.Sdp, ReferredBy = new NameAddress(LabPhone.Aor("alice")) }).WaitAsync(Bound);

        Assert.That(attempt.StatusCode, Is.EqualTo(403));
        Assert.That(attempt.Response!.Headers.Get(HeaderNames.Warning), Is.EqualTo(Refusal));
    }

    [Test]
    public async Task After_failover_completes_the_failed_pools_users_park_on_the_backups_orbits()
    {
        var lab = await StartLabAsync(bothPools: true);
        await lab.A.DisposeAsync();
        var machine = lab.B!.DrMachineOf("pool-a")!;
        await WaitForPhaseAsync(machine, DrPhase.Outage);
        Assert.That(machine.Failover().Accepted, Is.True);
        await WaitForPhaseAsync(machine, DrPhase.FailedOver);
        var alice = await RegisteredAtBAsync(lab, "alice");
        var bob = await RegisteredAtBAsync(lab, "bob");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
        var follow = FollowOnceAsync(bobCall, bob);

        var transfer = await aliceCall.ReferAsync(new NameAddress(ParkUri), alice.Agent.Identity).WaitAsync(Bound);

        Assert.That(transfer.Succeeded, Is.True, transfer.ToString());
        Assert.That((await follow).Response!.Headers.Get("X-Park-Orbit"), Is.EqualTo("7100"), "pool-b's range, pool-b's park app");
        Assert.That((await alice.NextMessageAsync()).BodyText, Does.Contain("orbit 7100"));
    }

    [Test]
    public async Task A_primary_that_returns_after_failover_learns_it_from_its_backup_and_sends_its_users_there_until_failback()
    {
        var lab = await StartLabAsync(bothPools: true);
        await lab.A.DisposeAsync();
        var machine = lab.B!.DrMachineOf("pool-a")!;
        await WaitForPhaseAsync(machine, DrPhase.Outage);
        machine.Failover();
        await WaitForPhaseAsync(machine, DrPhase.FailedOver);

        await lab.RestartAAsync();
        await WaitUntilAsync(() => lab.A.PhaseOf("pool-a") == DrPhase.FailedOver);
        var alice = await lab.PhoneAsync("alice", lab.A);
        var redirected = await alice.RegisterAsync();

        Assert.That(redirected.StatusCode, Is.EqualTo(301), redirected.ToString());
        Assert.That(redirected.Response!.Contacts.Single().Uri.Port, Is.EqualTo(lab.B.SipEndPoint.Port), "to the backup");

        await WaitUntilAsync(() => machine.PoolHealthy);
        Assert.That(machine.Failback().Accepted, Is.True);
        await WaitUntilAsync(() => lab.A.PhaseOf("pool-a") == DrPhase.FailingBack);
        var failingBack = await alice.RegisterAsync();
        Assert.That(failingBack.Response!.Headers.Get("X-Registration-Mode"), Is.EqualTo("resiliency"));
        await WaitUntilAsync(() => lab.A.PhaseOf("pool-a") == DrPhase.Normal);
        var home = await alice.RegisterAsync();
        Assert.That(home.Response!.Headers.Get("X-Registration-Mode"), Is.EqualTo("normal"));
    }

    [Test]
    public async Task A_backup_that_restarts_resumes_the_phase_it_drove_from_its_state_store()
    {
        var lab = await StartLabAsync(bothPools: true, persistent: true);
        await lab.B!.DisposeAsync();
        var machine = lab.A.DrMachineOf("pool-b")!;
        await WaitForPhaseAsync(machine, DrPhase.Outage);
        machine.Failover();
        await WaitForPhaseAsync(machine, DrPhase.FailedOver);

        await lab.RestartAAsync();

        Assert.That(lab.A.PhaseOf("pool-b"), Is.EqualTo(DrPhase.FailedOver), "not Normal: the failover survives the restart");
        var erin = await lab.PhoneAsync("erin", lab.A);
        Assert.That((await erin.RegisterAsync()).Response!.Headers.Get("X-Registration-Mode"), Is.EqualTo("normal"), "pool-b's users are served here");
    }

    [Test]
    public async Task When_the_primary_dies_the_backup_BYEs_its_parked_calls_and_tells_the_parkers_but_leaves_retrieved_calls_alone()
    {
        var lab = await StartLabAsync(bothPools: true, replication: true);
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob", supportsReplaces: false);
        var carol = await RegisteredPhoneAsync(lab, "carol");
        var dave = await RegisteredPhoneAsync(lab, "dave", supportsReplaces: false);
        var bobParkLeg = await ParkByTransferAsync(alice, bob);
        var daveParkLeg = await ParkByTransferAsync(carol, dave);
        var retrieved = (await alice.CallAsync(SipUri.Parse("sip:7001@callpark.lab"))).Call!; // dave's call, bridged to alice
        await WaitUntilAsync(() => lab.B!.Replicas.ParksOf("pool-a").Select(p => p.Orbit).SequenceEqual(["7000"]));

        var killed = DateTime.UtcNow;
        await lab.A.DisposeAsync(); // pool-a goes silent, as after kill -9: its parked calls get nothing from it

        Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp), "the backup sent BYE in pool-a's park dialog");
        TestContext.Out.WriteLine($"orphan BYE {(DateTime.UtcNow - killed).TotalMilliseconds:0} ms after pool-a stopped");
        var notice = await alice.NextMessageAsync();
        Assert.That(notice.BodyText, Does.Contain("on orbit 7000 was disconnected").And.Contain("pool-a failed"));
        Assert.That(lab.B!.Replicas.ParksOf("pool-a"), Is.Empty);
        Assert.That(retrieved.IsEnded || daveParkLeg.IsEnded, Is.False, "the retrieved call stays up");
    }

    [Test]
    public async Task During_an_outage_calls_to_the_failed_pools_users_reach_them_through_their_replicated_bindings()
    {
        var lab = await StartLabAsync(bothPools: true, replication: true);
        var alice = await RegisteredPhoneAsync(lab, "alice");
        await WaitUntilAsync(() => lab.B!.Replicas.Get("sip:alice@callpark.lab", DateTimeOffset.UtcNow).Count == 1);
        var erin = await lab.PhoneAsync("erin", lab.B!);
        Assert.That((await erin.RegisterAsync()).StatusCode, Is.EqualTo(200));

        await lab.A.DisposeAsync();
        await WaitForPhaseAsync(lab.B!.DrMachineOf("pool-a")!, DrPhase.Outage);
        var (erinCall, aliceCall) = await ConnectAsync(erin, alice);

        Assert.That(aliceCall.Dialog.RemoteAddress.Uri.User, Is.EqualTo("erin"), "alice never re-registered, yet erin's call reached her");
        Assert.That(lab.B.Bindings.Get("sip:alice@callpark.lab", DateTimeOffset.UtcNow), Is.Empty, "through the replica, not a binding of pool-b's own");
        await erinCall.HangUpAsync().WaitAsync(Bound);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    /// <summary>Way 2 on pool-a: the parker blind-transfers the party to the park; returns the party's park leg once the parker is told.</summary>
    private static async Task<SipCall> ParkByTransferAsync(LabPhone parker, LabPhone party)
    {
        var (parkerCall, partyCall) = await ConnectAsync(parker, party);
        var follow = FollowOnceAsync(partyCall, party);
        Assert.That((await parkerCall.ReferAsync(new NameAddress(ParkUri), parker.Agent.Identity).WaitAsync(Bound)).Succeeded, Is.True);
        var leg = (await follow).Call!;
        await parker.NextMessageAsync();
        await parkerCall.HangUpAsync().WaitAsync(Bound);
        return leg;
    }

    private static async Task<LabPhone> RegisteredAtBAsync(LabPools lab, string user)
    {
        var phone = await lab.PhoneAsync(user, lab.B!);
        var result = await phone.RegisterAsync();
        Assert.That(result.StatusCode, Is.EqualTo(200), result.ToString());
        return phone;
    }

    private static Task<CallAttempt> FollowOnceAsync(SipCall call, LabPhone phone)
    {
        var done = new TaskCompletionSource<CallAttempt>(TaskCreationOptions.RunContinuationsAsynchronously);
        call.OnRefer = async refer => done.TrySetResult(await refer.FollowAsync(phone.Sdp));
        return done.Task.WaitAsync(Bound);
    }

    private static async Task WaitForPhaseAsync(DrStateMachine machine, DrPhase phase) => await WaitUntilAsync(() => machine.Phase == phase);
}
