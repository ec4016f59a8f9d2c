using System.Net;
using SipCallPark.Pool.Proxy;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>
/// Issue 12 against a running pool: what it answers when a request claims a route, a dialog or a park target it may
/// not have, and that what it must carry (a BYE along the recorded route, before and after a restart) still passes.
/// </summary>
[TestFixture]
public sealed class SecurityTests : IntegrationTest
{
    private static readonly TimeSpan Bound = LabPhone.Bound;
    /// <summary>How long "nothing arrived" is watched: a relayed request would arrive within milliseconds on loopback.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);
    private static readonly SipUri ParkUri = SipUri.Parse("sip:park@callpark.lab");

    [Test]
    public async Task An_INVITE_without_credentials_whose_route_set_goes_on_past_the_pool_gets_407_and_is_relayed_nowhere()
    {
        var lab = await StartLabAsync();
        using var attacker = new RawSipSocket();
        using var elsewhere = new RawSipSocket();
        var pool = lab.A.SipEndPoint;

        await attacker.SendAsync(attacker.Request("INVITE", "sip:victim@evil.example", "relay-1", null,
            $"Route: <sip:127.0.0.1:{pool.Port};lr>, <sip:127.0.0.1:{elsewhere.Port};lr>\r\n"), pool);

        var answer = await attacker.FinalAsync(Bound);
        Assert.That(answer?.StatusCode, Is.EqualTo(407), "authenticated before any routing");
        Assert.That(await elsewhere.RequestAsync(Quiet), Is.Null, "nothing was relayed");
    }

    [TestCase("", Description = "our Route without a token")]
    [TestCase(";cpt=00000000000000000000000000000000", Description = "a forged token")]
    public async Task An_in_dialog_request_to_a_foreign_target_along_the_pools_route_without_a_token_it_minted_gets_403_and_is_relayed_nowhere(string token)
    {
        var lab = await StartLabAsync();
        using var attacker = new RawSipSocket();
        using var elsewhere = new RawSipSocket();
        var pool = lab.A.SipEndPoint;

        await attacker.SendAsync(attacker.Request("INVITE", $"sip:victim@127.0.0.1:{elsewhere.Port}", "relay-2", "victim1",
            $"Route: <sip:127.0.0.1:{pool.Port};lr{token}>\r\n"), pool);

        var answer = await attacker.FinalAsync(Bound);
        Assert.That(answer?.StatusCode, Is.EqualTo(403));
        Assert.That(answer!.Headers.Get(HeaderNames.Warning), Does.Contain("no dialog set up through this pool"));
        Assert.That(await elsewhere.RequestAsync(Quiet), Is.Null, "nothing was relayed");
    }

    [Test]
    public async Task An_in_dialog_MESSAGE_to_a_registered_user_that_never_passed_the_pool_gets_403_and_reaches_nobody()
    {
        var lab = await StartLabAsync();
        var bob = await RegisteredPhoneAsync(lab, "bob");
        using var attacker = new RawSipSocket();

        await attacker.SendAsync(attacker.Request("MESSAGE", "sip:bob@callpark.lab", "relay-3", "bobtag", ""), lab.A.SipEndPoint);

        Assert.That((await attacker.FinalAsync(Bound))?.StatusCode, Is.EqualTo(403));
        Assert.That(bob.PendingMessages, Is.Zero);
    }

    [Test]
    public async Task An_authenticated_user_whose_route_set_goes_on_past_the_pool_to_elsewhere_gets_403_and_is_relayed_nowhere()
    {
        var lab = await StartLabAsync();
        var alice = await lab.PhoneAsync("alice", lab.A);
        using var elsewhere = new RawSipSocket();
        var pool = lab.A.SipEndPoint;

        var sent = await alice.Agent.SendMessageAsync(SipUri.Parse("sip:x@example.com"), "relay me",
            headers: [(HeaderNames.Route, $"<sip:127.0.0.1:{pool.Port};lr>"), (HeaderNames.Route, $"<sip:127.0.0.1:{elsewhere.Port};lr>")],
            destination: alice.Pool).WaitAsync(Bound);

        Assert.That(sent.StatusCode, Is.EqualTo(403));
        Assert.That(await elsewhere.RequestAsync(Quiet), Is.Null, "nothing was relayed");
    }

    [Test]
    public async Task A_SUBSCRIBE_or_OPTIONS_for_an_unknown_user_is_challenged_like_one_for_a_known_user_so_names_cannot_be_enumerated()
    {
        var lab = await StartLabAsync();
        using var attacker = new RawSipSocket();

        var answers = new List<int?>();
        foreach (var (method, user) in new[] { ("OPTIONS", "zed"), ("OPTIONS", "bob"), ("SUBSCRIBE", "zed"), ("SUBSCRIBE", "bob") })
        {
            await attacker.SendAsync(attacker.Request(method, $"sip:{user}@callpark.lab", $"enum-{method}-{user}", null, "Event: presence\r\n"), lab.A.SipEndPoint);
            answers.Add((await attacker.FinalAsync(Bound))?.StatusCode);
        }

        Assert.That(answers, Is.All.EqualTo(407));
    }

    [Test]
    public async Task A_call_through_the_pool_is_hung_up_along_its_recorded_route_in_both_directions_and_its_Record_Route_carries_the_token()
    {
        var lab = await StartLabAsync();
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);

        Assert.That(aliceCall.Dialog.RouteSet.Single().Uri.GetParameter(RecordRouteToken.Parameter), Has.Length.EqualTo(32));
        var reinvite = await bobCall.ReInviteAsync(bob.Sdp).WaitAsync(Bound);
        Assert.That(reinvite.StatusCode, Is.EqualTo(200), "the callee's request (tags the other way round) passes");
        var hangUp = await aliceCall.HangUpAsync().WaitAsync(Bound);
        Assert.That(hangUp!.StatusCode, Is.EqualTo(200), "the caller's BYE passes");
        Assert.That(await bobCall.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
    }

    [Test]
    public async Task A_call_set_up_before_a_restart_of_the_pool_is_hung_up_after_it_because_the_token_key_is_kept_with_the_data()
    {
        var lab = await StartLabAsync(persistent: true);
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);

        await lab.RestartAAsync();
        var hangUp = await aliceCall.HangUpAsync().WaitAsync(Bound);

        Assert.That(hangUp!.StatusCode, Is.EqualTo(200), hangUp.ToString());
        Assert.That(await bobCall.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
    }

    [Test]
    public async Task A_park_REFER_naming_an_address_outside_the_domain_gets_403_and_the_pool_calls_nobody()
    {
        var lab = await StartLabAsync();
        var alice = await RegisteredPhoneAsync(lab, "alice");
        using var elsewhere = new RawSipSocket();
        var referTo = new NameAddress(SipUri.Parse($"sip:x@127.0.0.1:{elsewhere.Port}")
            .WithHeader(HeaderNames.Replaces, new ReplacesHeader("any-call", "a", "b").ToString()));

        var outcome = await alice.Agent.ReferAsync(ParkUri, referTo, NameAddress.Parse("<sip:ceo@callpark.lab>")).WaitAsync(Bound);

        Assert.That(outcome.ReferStatus, Is.EqualTo(403));
        Assert.That(outcome.ReferResponse!.Headers.Get(HeaderNames.Warning), Does.Contain("Refer-To must name"));
        Assert.That(await elsewhere.RequestAsync(Quiet), Is.Null, "the park INVITEd nobody");
        Assert.That(lab.A.Park.OrbitsInUse, Is.Zero);
    }

    [Test]
    public async Task A_park_REFER_naming_the_unregistered_other_party_of_the_parkers_call_through_the_pool_parks_it_with_Referred_By_set_by_the_pool()
    {
        var lab = await StartLabAsync();
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var carol = await lab.PhoneAsync("carol", lab.A); // calls without registering: her Contact is known only from this call
        var (carolCall, aliceCall) = await ConnectAsync(carol, alice);
        var d = aliceCall.Dialog; // alice answered: the Replaces names carol's side of the call (to-tag carol's, from-tag alice's)
        var referTo = new NameAddress(d.RemoteTarget.WithoutHeaders().WithHeader(HeaderNames.Replaces, new ReplacesHeader(d.Id.CallId, d.Id.RemoteTag, d.Id.LocalTag).ToString()));

        var parking = alice.Agent.ReferAsync(ParkUri, referTo, NameAddress.Parse("<sip:ceo@callpark.lab>")).WaitAsync(Bound);
        var parkInvite = await carol.NextIncomingAsync();
        await parkInvite.AnswerAsync(carol.Sdp);
        var outcome = await parking;

        Assert.Multiple(() =>
        {
            Assert.That(outcome.ReferStatus, Is.EqualTo(202));
            Assert.That(NameAddress.Parse(parkInvite.Request.Headers.Get(HeaderNames.ReferredBy)!).Uri.User, Is.EqualTo("alice"),
                "the authenticated parker, not the Referred-By the REFER claimed");
            Assert.That(parkInvite.Replaces, Is.SameAs(carolCall));
        });
    }

    [Test]
    public async Task A_park_REFER_naming_a_call_of_other_users_gets_403()
    {
        var lab = await StartLabAsync();
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var dave = await RegisteredPhoneAsync(lab, "dave");
        var carol = await lab.PhoneAsync("carol", lab.A);
        var (carolCall, daveCall) = await ConnectAsync(carol, dave);
        var d = daveCall.Dialog;
        var referTo = new NameAddress(d.RemoteTarget.WithoutHeaders().WithHeader(HeaderNames.Replaces, new ReplacesHeader(d.Id.CallId, d.Id.RemoteTag, d.Id.LocalTag).ToString()));

        var outcome = await alice.Agent.ReferAsync(ParkUri, referTo).WaitAsync(Bound);

        Assert.That(outcome.ReferStatus, Is.EqualTo(403), "alice is no party of carol's call with dave");
        Assert.That(carol.PendingIncoming, Is.Zero);
        Assert.That(carolCall.IsEnded, Is.False);
    }
}
