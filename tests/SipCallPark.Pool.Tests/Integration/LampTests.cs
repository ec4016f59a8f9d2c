using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Hosting;
using SipCallPark.Pool.Park;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>Orbit lamps end to end (docs/design.md §5 "Orbit lamps"): SUBSCRIBE with Event: dialog, NOTIFY with dialog-info.</summary>
[TestFixture]
public sealed class LampTests : IntegrationTest
{
    private static readonly SipUri ParkUri = SipUri.Parse("sip:park@callpark.lab");

    private static async Task<LampWatcher> WatcherAsync(LabPools lab, string user, PoolServer? pool = null, bool withPassword = true) =>
        await LampWatcher.StartAsync(user, withPassword ? LabPools.Passwords[user] : null,
            new SipEndPoint(SipProtocol.Udp, (pool ?? lab.A).SipEndPoint), lab.Log);

    /// <summary>
    /// bob, transferred by dave (park way 2: his INVITE to the park service carries <c>Referred-By</c>), sits in the lowest
    /// free orbit (7000 in an empty lab). A call to the park service with no transfer behind it is an attended-park
    /// reservation, not a park (docs/design.md §5 "Attended park").
    /// </summary>
    private static async Task<SipCall> ParkBobAsync(LabPools lab, LabPhone bob)
    {
        var transferor = NameAddress.Parse("<sip:dave@callpark.lab>");
        var attempt = await bob.Agent.CallAsync(ParkUri, new CallOptions { Sdp = bob.Sdp, ReferredBy = transferor }).WaitAsync(LabPhone.Bound);
        Assert.That(attempt.IsSuccess, Is.True, attempt.ToString());
        await WaitUntilAsync(() => lab.A.Park.Parked().Any(p => p.State == "Parked"));
        return attempt.Call!;
    }

    [Test]
    public async Task A_SUBSCRIBE_to_an_orbit_gets_200_with_Expires_then_at_once_a_full_state_NOTIFY_showing_it_free()
    {
        var lab = await StartLabAsync();
        await using var alice = await WatcherAsync(lab, "alice");

        var (result, _) = await alice.SubscribeAsync("7000", expires: 600);
        var notify = await alice.NextNotifyAsync();

        Assert.Multiple(() =>
        {
            Assert.That(result.StatusCode, Is.EqualTo(200));
            Assert.That(result.Response!.Expires, Is.EqualTo(600));
            Assert.That(result.Response.Headers.Get(HeaderNames.AllowEvents), Is.EqualTo("dialog"));
            Assert.That(result.Response.Contacts, Has.Count.EqualTo(1), "a 2xx to SUBSCRIBE carries the notifier's Contact");
            Assert.That(notify.Headers.Get(HeaderNames.Event), Is.EqualTo("dialog"));
            Assert.That(notify.Headers.Get(HeaderNames.SubscriptionState), Does.Match(@"^active;expires=(59\d|600)$"));
            Assert.That(notify.ContentType, Is.EqualTo("application/dialog-info+xml"));
            Assert.That(LampWatcher.Version(notify), Is.Zero, "versions start at 0 (RFC 4235 §4.1)");
            Assert.That(LampWatcher.DialogStates(notify), Is.EqualTo(new[] { "terminated" }));
        });
        Assert.That(lab.A.Lamps.Count, Is.EqualTo(1));
    }

    [Test]
    public async Task The_lamp_goes_confirmed_with_the_callers_identity_when_a_call_is_parked_and_terminated_when_it_is_retrieved()
    {
        var lab = await StartLabAsync();
        await using var alice = await WatcherAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob", supportsReplaces: false);
        var carol = await RegisteredPhoneAsync(lab, "carol");
        await alice.SubscribeAsync("7000");
        Assert.That(LampWatcher.DialogStates(await alice.NextNotifyAsync()), Is.EqualTo(new[] { "terminated" }));

        await ParkBobAsync(lab, bob);
        var parked = await alice.NextNotifyAsync();
        var retrieve = await carol.CallAsync(SipUri.Parse("sip:7000@callpark.lab"));
        Assert.That(retrieve.IsSuccess, Is.True, retrieve.ToString());
        var retrieved = await alice.NextNotifyAsync();

        Assert.Multiple(() =>
        {
            Assert.That(LampWatcher.DialogStates(parked), Is.EqualTo(new[] { "confirmed" }));
            Assert.That(parked.BodyText, Does.Contain("<identity>sip:bob@callpark.lab</identity>").Or.Contain(">sip:bob@callpark.lab</identity>"),
                "the parked caller is the remote identity");
            Assert.That(parked.BodyText, Does.Contain("direction=\"recipient\""));
            Assert.That(parked.BodyText, Does.Contain("<target uri=\"sip:7000@callpark.lab\""));
            Assert.That(LampWatcher.Version(parked), Is.EqualTo(1));
            Assert.That(LampWatcher.DialogStates(retrieved), Is.EqualTo(new[] { "terminated" }));
            Assert.That(LampWatcher.Version(retrieved), Is.EqualTo(2));
            Assert.That(parked.CSeq.Number, Is.LessThan(retrieved.CSeq.Number));
        });
        await retrieve.Call!.HangUpAsync().WaitAsync(LabPhone.Bound);
    }

    [Test]
    public async Task With_ParkedState_early_a_parked_call_shows_early()
    {
        var lab = await StartLabAsync(park: new ParkOptions { OrbitAssignment = OrbitAssignment.Lowest, Blf = new BlfOptions { ParkedState = "early" } });
        await using var alice = await WatcherAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob");
        Assert.That((await alice.SubscribeAsync("7000")).Result.StatusCode, Is.EqualTo(200));
        await alice.NextNotifyAsync();

        var leg = await ParkBobAsync(lab, bob);

        Assert.That(LampWatcher.DialogStates(await alice.NextNotifyAsync()), Is.EqualTo(new[] { "early" }));
        await leg.HangUpAsync().WaitAsync(LabPhone.Bound);
        Assert.That(LampWatcher.DialogStates(await alice.NextNotifyAsync()), Is.EqualTo(new[] { "terminated" }), "the party hung up: free");
    }

    [Test]
    public async Task A_SUBSCRIBE_to_the_park_service_watches_the_whole_lot_with_one_dialog_per_occupied_orbit()
    {
        var lab = await StartLabAsync();
        await using var alice = await WatcherAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob");
        await alice.SubscribeAsync("park");
        Assert.That(LampWatcher.DialogStates(await alice.NextNotifyAsync()), Is.Empty, "nothing parked");

        await ParkBobAsync(lab, bob);

        var notify = await alice.NextNotifyAsync();
        Assert.That(LampWatcher.DialogStates(notify), Is.EqualTo(new[] { "confirmed" }));
        Assert.That(notify.BodyText, Does.Contain("entity=\"sip:park@callpark.lab\""));
    }

    [Test]
    public async Task A_refresh_is_answered_with_the_new_Expires_and_a_NOTIFY_one_version_higher()
    {
        var lab = await StartLabAsync();
        await using var alice = await WatcherAsync(lab, "alice");
        var (_, dialog) = await alice.SubscribeAsync("7000");
        await alice.NextNotifyAsync();

        var refresh = await alice.RefreshAsync(dialog!, 300);
        var notify = await alice.NextNotifyAsync();

        Assert.Multiple(() =>
        {
            Assert.That(refresh.StatusCode, Is.EqualTo(200));
            Assert.That(refresh.Response!.Expires, Is.EqualTo(300));
            Assert.That(notify.Headers.Get(HeaderNames.SubscriptionState), Does.Match(@"^active;expires=(29\d|300)$"));
            Assert.That(LampWatcher.Version(notify), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Expires_0_unsubscribes_with_a_last_NOTIFY_terminated_and_the_subscription_is_gone()
    {
        var lab = await StartLabAsync();
        await using var alice = await WatcherAsync(lab, "alice");
        var (_, dialog) = await alice.SubscribeAsync("7000");
        await alice.NextNotifyAsync();

        var unsubscribe = await alice.RefreshAsync(dialog!, 0);
        var last = await alice.NextNotifyAsync();

        Assert.That(unsubscribe.StatusCode, Is.EqualTo(200));
        Assert.That(last.Headers.Get(HeaderNames.SubscriptionState), Does.StartWith("terminated"));
        await WaitUntilAsync(() => lab.A.Lamps.Count == 0);
        Assert.That((await alice.RefreshAsync(dialog!, 600)).StatusCode, Is.EqualTo(481), "the dialog is gone");
    }

    [Test]
    public async Task A_subscription_that_is_not_refreshed_ends_at_its_expiry_with_terminated_reason_timeout()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lab = await StartLabAsync(time: clock);
        await using var alice = await WatcherAsync(lab, "alice");
        await alice.SubscribeAsync("7000", expires: 60);
        await alice.NextNotifyAsync();
        // The first NOTIFY's transaction must be over before the clock jumps past its 32 s timeout.
        await WaitUntilAsync(() => lab.A.Lamps.Subscriptions.All(s => !s.IsSending));

        clock.Advance(TimeSpan.FromSeconds(61));

        var last = await alice.NextNotifyAsync();
        Assert.That(last.Headers.Get(HeaderNames.SubscriptionState), Is.EqualTo("terminated;reason=timeout"));
        await WaitUntilAsync(() => lab.A.Lamps.Count == 0);
    }

    [Test]
    public async Task Another_event_package_gets_489_with_Allow_Events_dialog()
    {
        var lab = await StartLabAsync();
        await using var alice = await WatcherAsync(lab, "alice");

        var (result, _) = await alice.SubscribeAsync("7000", @event: "presence");

        Assert.That(result.StatusCode, Is.EqualTo(489));
        Assert.That(result.Response!.Headers.Get(HeaderNames.AllowEvents), Is.EqualTo("dialog"));
        Assert.That(lab.A.Lamps.Count, Is.Zero);
    }

    [Test]
    public async Task A_SUBSCRIBE_shorter_than_MinExpires_gets_423_with_Min_Expires()
    {
        var lab = await StartLabAsync();
        await using var alice = await WatcherAsync(lab, "alice");

        var (result, _) = await alice.SubscribeAsync("7000", expires: 10);

        Assert.That(result.StatusCode, Is.EqualTo(423));
        Assert.That(result.Response!.Headers.Get(HeaderNames.MinExpires), Is.EqualTo("60"));
        Assert.That(lab.A.Lamps.Count, Is.Zero);
    }

    [Test]
    public async Task A_SUBSCRIBE_without_credentials_is_challenged_and_holds_nothing()
    {
        var lab = await StartLabAsync();
        await using var mallory = await WatcherAsync(lab, "alice", withPassword: false);

        var (result, _) = await mallory.SubscribeAsync("7000");

        Assert.That(result.StatusCode, Is.EqualTo(407));
        Assert.That(lab.A.Lamps.Count, Is.Zero);
        Assert.That(mallory.PendingNotifies, Is.Zero);
    }

    [Test]
    public async Task A_SUBSCRIBE_to_a_number_that_is_no_orbit_gets_404()
    {
        var lab = await StartLabAsync();
        await using var alice = await WatcherAsync(lab, "alice");

        var (result, _) = await alice.SubscribeAsync("7500");

        Assert.That(result.StatusCode, Is.EqualTo(404));
        Assert.That(lab.A.Lamps.Count, Is.Zero);
    }

    [Test]
    public async Task A_flood_of_subscriptions_from_one_user_stops_at_MaxPerUser_with_403_and_leaves_room_for_others()
    {
        var lab = await StartLabAsync(park: new ParkOptions { OrbitAssignment = OrbitAssignment.Lowest, Blf = new BlfOptions { MaxPerUser = 3, MaxTotal = 5 } });
        await using var mallory = await WatcherAsync(lab, "dave");
        await using var alice = await WatcherAsync(lab, "alice");

        var statuses = new List<int>();
        for (var i = 0; i < 6; i++) statuses.Add((await mallory.SubscribeAsync("7000")).Result.StatusCode);
        var aliceStatus = (await alice.SubscribeAsync("7000")).Result.StatusCode;

        Assert.That(statuses, Is.EqualTo(new[] { 200, 200, 200, 403, 403, 403 }));
        Assert.That(aliceStatus, Is.EqualTo(200), "another user still gets a lamp");
        Assert.That(lab.A.Lamps.Count, Is.EqualTo(4));
    }

    [Test]
    public async Task Past_MaxTotal_a_SUBSCRIBE_gets_503_with_Retry_After_and_no_subscription_is_kept()
    {
        var lab = await StartLabAsync(park: new ParkOptions { OrbitAssignment = OrbitAssignment.Lowest, Blf = new BlfOptions { MaxPerUser = 2, MaxTotal = 2 } });
        await using var alice = await WatcherAsync(lab, "alice");
        await using var carol = await WatcherAsync(lab, "carol");
        Assert.That((await alice.SubscribeAsync("7000")).Result.StatusCode, Is.EqualTo(200));
        Assert.That((await alice.SubscribeAsync("park")).Result.StatusCode, Is.EqualTo(200));

        var (refused, _) = await carol.SubscribeAsync("7001");

        Assert.That(refused.StatusCode, Is.EqualTo(503));
        Assert.That(refused.Response!.Headers.Get(HeaderNames.RetryAfter), Is.Not.Null);
        Assert.That(lab.A.Lamps.Count, Is.EqualTo(2));
    }

    [Test]
    public async Task A_NOTIFY_answered_481_ends_the_subscription()
    {
        var lab = await StartLabAsync();
        await using var alice = await WatcherAsync(lab, "alice");
        alice.NotifyAnswer = 481;

        await alice.SubscribeAsync("7000");
        await alice.NextNotifyAsync();

        await WaitUntilAsync(() => lab.A.Lamps.Count == 0);
    }

    [Test]
    public async Task A_refresh_naming_a_dialog_the_pool_never_made_gets_481()
    {
        var lab = await StartLabAsync();
        await using var alice = await WatcherAsync(lab, "alice");
        var (_, dialog) = await alice.SubscribeAsync("7000");
        await alice.NextNotifyAsync();
        var forged = Sip.Dialogs.Dialog.Restore(new Sip.Dialogs.DialogId(dialog!.Id.CallId, dialog.Id.LocalTag, "forged-tag"), true,
            dialog.LocalAddress, dialog.RemoteAddress, dialog.RemoteTarget, dialog.RouteSet, dialog.LocalCSeq + 5, null);

        Assert.That((await alice.RefreshAsync(forged, 0)).StatusCode, Is.EqualTo(481));
        Assert.That(lab.A.Lamps.Count, Is.EqualTo(1), "the real subscription is untouched");
    }

    [Test]
    public async Task Subscriptions_survive_a_restart_and_the_phone_hears_the_state_again_with_a_higher_version_in_the_same_dialog()
    {
        var lab = await StartLabAsync(persistent: true);
        await using var alice = await WatcherAsync(lab, "alice");
        var (_, dialog) = await alice.SubscribeAsync("7000");
        var first = await alice.NextNotifyAsync();

        await lab.RestartAAsync();

        var again = await alice.NextNotifyAsync();
        Assert.Multiple(() =>
        {
            Assert.That(again.CallId, Is.EqualTo(first.CallId));
            Assert.That(again.From.Tag, Is.EqualTo(first.From.Tag));
            Assert.That(LampWatcher.Version(again), Is.EqualTo(LampWatcher.Version(first) + 1));
            Assert.That(again.CSeq.Number, Is.GreaterThan(first.CSeq.Number));
            Assert.That(again.Headers.Get(HeaderNames.SubscriptionState), Does.StartWith("active;expires="));
        });
        Assert.That(lab.A.Lamps.Count, Is.EqualTo(1));
        Assert.That((await alice.RefreshAsync(dialog!, 600)).StatusCode, Is.EqualTo(200), "the restarted pool knows the dialog");
    }

    [Test]
    public async Task A_SUBSCRIBE_to_the_other_pools_orbit_is_proxied_there_and_its_NOTIFYs_come_back_along_the_Record_Route()
    {
        var lab = await StartLabAsync(bothPools: true);
        await using var alice = await WatcherAsync(lab, "alice");

        var (result, dialog) = await alice.SubscribeAsync("7100");
        var notify = await alice.NextNotifyAsync();

        Assert.Multiple(() =>
        {
            Assert.That(result.StatusCode, Is.EqualTo(200));
            Assert.That(result.Response!.RecordRoutes, Is.Not.Empty, "pool-a stays in the subscription's path");
            Assert.That(notify.BodyText, Does.Contain("entity=\"sip:7100@callpark.lab\""));
            Assert.That(lab.B!.Lamps.Count, Is.EqualTo(1), "pool-b owns 7100 and holds the subscription");
            Assert.That(lab.A.Lamps.Count, Is.Zero);
        });
        Assert.That((await alice.RefreshAsync(dialog!, 0)).StatusCode, Is.EqualTo(200));
        Assert.That((await alice.NextNotifyAsync()).Headers.Get(HeaderNames.SubscriptionState), Does.StartWith("terminated"));
    }
}
