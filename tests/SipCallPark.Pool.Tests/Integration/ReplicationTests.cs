using SipCallPark.Pool.Park;
using SipCallPark.Pool.Replication;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>Each pool streams its bindings and park dialogs to its backup over the admin API (docs/design.md §7 "Replication").</summary>
public sealed class ReplicationTests : IntegrationTest
{
    private static readonly TimeSpan Bound = LabPhone.Bound;
    private static readonly SipUri ParkUri = SipUri.Parse("sip:park@callpark.lab");
    private const string Alice = "sip:alice@callpark.lab";

    [Test]
    public async Task A_phone_registered_at_pool_a_is_in_pool_bs_replica_with_its_contact()
    {
        var lab = await StartLabAsync(bothPools: true, replication: true);
        var alice = await RegisteredPhoneAsync(lab, "alice");

        var replicated = await ReplicatedAsync(() => lab.B!.Replicas.Get(Alice, lab.Time.GetUtcNow()), r => r.Count == 1);

        var own = lab.A.Bindings.Get(Alice, lab.Time.GetUtcNow()).Single();
        Assert.Multiple(() =>
        {
            Assert.That(replicated.Single(), Is.EqualTo(own));
            Assert.That(replicated.Single().Contact, Does.Contain($":{alice.Contact.Port}"));
            Assert.That(lab.B!.Replicas.BindingsOf("pool-a", lab.Time.GetUtcNow()), Has.Count.EqualTo(1));
            Assert.That(lab.B.Bindings.Get(Alice, lab.Time.GetUtcNow()), Is.Empty, "the replica is kept apart from pool-b's own bindings");
            Assert.That(lab.A.Replicas.BindingsOf("pool-b", lab.Time.GetUtcNow()), Is.Empty, "pool-b has no bindings of its own to send");
        });

        Assert.That((await alice.RegisterAsync(expires: 0)).StatusCode, Is.EqualTo(200));
        await ReplicatedAsync(() => lab.B!.Replicas.Get(Alice, lab.Time.GetUtcNow()), r => r.Count == 0);
    }

    [Test]
    public async Task A_call_parked_on_pool_a_is_in_pool_bs_replica_with_its_dialog_and_leaves_it_when_retrieved()
    {
        var lab = await StartLabAsync(bothPools: true, replication: true);
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob", supportsReplaces: false);
        var dave = await RegisteredPhoneAsync(lab, "dave");
        var (bobParkLeg, orbit) = await ParkBobByTransferAsync(alice, bob);

        var parks = await ReplicatedAsync(() => lab.B!.Replicas.ParksOf("pool-a"), p => p.Count == 1);

        var record = parks.Single();
        var dialog = record.ToDialog();
        Assert.Multiple(() =>
        {
            Assert.That(record.Orbit, Is.EqualTo(orbit));
            Assert.That(record.Pool, Is.EqualTo("pool-a"));
            Assert.That(record.Parker, Is.EqualTo(Alice));
            Assert.That(dialog.Id.CallId, Is.EqualTo(bobParkLeg.CallId), "enough to BYE bob in his dialog with the park");
            Assert.That(dialog.Id.RemoteTag, Is.EqualTo(bobParkLeg.Dialog.Id.LocalTag));
            Assert.That(dialog.Id.LocalTag, Is.EqualTo(bobParkLeg.Dialog.Id.RemoteTag));
            Assert.That(dialog.RemoteTarget.WithoutHeaders(), Is.EqualTo(bob.Contact.WithoutHeaders()));
            Assert.That(lab.B!.Park.Parked(), Is.Empty, "pool-b's own park application holds nothing");
        });

        var retrieved = await dave.CallAsync(SipUri.Parse($"sip:{orbit}@callpark.lab"));
        Assert.That(retrieved.IsSuccess, Is.True, retrieved.ToString());
        await ReplicatedAsync(() => lab.B!.Replicas.ParksOf("pool-a"), p => p.Count == 0);
    }

    [Test]
    public async Task After_pool_b_was_down_pool_a_sends_a_snapshot_that_brings_its_replica_up_to_date()
    {
        var lab = await StartLabAsync(bothPools: true, replication: true);
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob", supportsReplaces: false);
        var (_, orbit) = await ParkBobByTransferAsync(alice, bob);
        await ReplicatedAsync(() => lab.B!.Replicas.ParksOf("pool-a"), p => p.Count == 1);

        await lab.StopBAsync();
        Assert.That(await lab.A.Park.UnparkAsync(orbit), Is.True);
        var carol = await RegisteredPhoneAsync(lab, "carol");
        await WaitUntilAsync(() => lab.A.Replication.Sender!.IsFailing);
        await lab.StartBAsync();

        await ReplicatedAsync(() => lab.B!.Replicas.Get("sip:carol@callpark.lab", lab.Time.GetUtcNow()), r => r.Count == 1);
        Assert.Multiple(() =>
        {
            Assert.That(lab.B!.Replicas.ParksOf("pool-a"), Is.Empty, "the park ended while pool-b was away");
            Assert.That(lab.B.Replicas.BindingsOf("pool-a", lab.Time.GetUtcNow()).Select(b => b.Aor),
                Is.EquivalentTo(new[] { Alice, "sip:bob@callpark.lab", "sip:carol@callpark.lab" }));
        });
        await WaitUntilAsync(() => !lab.A.Replication.Sender!.IsFailing); // pool-b stores the snapshot before pool-a has its answer
        var lines = lab.Log.Lines.Where(l => l.Contains("Replication to pool-b")).ToArray();
        Assert.That(lines.Count(l => l.Contains("stopped working")), Is.EqualTo(1), string.Join("\n", lines));
        Assert.That(lines.Single(l => l.Contains("resumes")), Does.Contain("snapshot of 3 bindings and 0 parked dialogs"));
    }

    [Test]
    public async Task A_restarted_pool_b_still_holds_the_replicas_it_had_before()
    {
        var lab = await StartLabAsync(bothPools: true, replication: true);
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob", supportsReplaces: false);
        var (_, orbit) = await ParkBobByTransferAsync(alice, bob);
        await ReplicatedAsync(() => lab.B!.Replicas.ParksOf("pool-a"), p => p.Count == 1);
        await ReplicatedAsync(() => lab.B!.Replicas.BindingsOf("pool-a", lab.Time.GetUtcNow()), b => b.Count == 2);

        await lab.A.DisposeAsync(); // nobody can send pool-b anything again: what it has after the restart, it kept
        await lab.StopBAsync();
        await lab.StartBAsync();

        Assert.Multiple(() =>
        {
            Assert.That(lab.B!.Replicas.ParksOf("pool-a").Single().Orbit, Is.EqualTo(orbit));
            Assert.That(lab.B.Replicas.BindingsOf("pool-a", lab.Time.GetUtcNow()).Select(b => b.Aor), Is.EquivalentTo(new[] { Alice, "sip:bob@callpark.lab" }));
            Assert.That(lab.B.Park.Parked(), Is.Empty);
        });
    }

    /// <summary>Waits (bounded) until the partner's replica, read by <paramref name="read"/>, satisfies <paramref name="done"/>.</summary>
    private static async Task<T> ReplicatedAsync<T>(Func<T> read, Func<T, bool> done)
    {
        await WaitUntilAsync(() => done(read()));
        return read();
    }

    /// <summary>Way 2 (as in <see cref="ParkTests"/>): alice calls bob and blind-transfers him to the park; bob's leg with the park and the orbit.</summary>
    private static async Task<(SipCall BobParkLeg, string Orbit)> ParkBobByTransferAsync(LabPhone alice, LabPhone bob)
    {
        var dialling = alice.CallAsync(bob.User);
        var bobCall = await (await bob.NextIncomingAsync()).AnswerAsync(bob.Sdp);
        var aliceCall = (await dialling).Call!;
        await bobCall.Confirmed.WaitAsync(Bound);
        var following = new TaskCompletionSource<CallAttempt>(TaskCreationOptions.RunContinuationsAsynchronously);
        bobCall.OnRefer = async refer => following.TrySetResult(await refer.FollowAsync(bob.Sdp));

        var transfer = await aliceCall.ReferAsync(new NameAddress(ParkUri), alice.Agent.Identity).WaitAsync(Bound);
        Assert.That(transfer.Succeeded, Is.True, transfer.ToString());
        var attempt = await following.Task.WaitAsync(Bound);
        var notice = await alice.NextMessageAsync();
        await aliceCall.HangUpAsync().WaitAsync(Bound);
        return (attempt.Call!, notice.Headers.Get(ParkApplication.OrbitHeader)!);
    }
}
