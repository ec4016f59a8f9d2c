using System.Net.Http.Json;
using System.Text.Json;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Tests.Hosting;

/// <summary>
/// docs/design.md §5 case 5 with real processes: the pool executable is killed (SIGKILL, no shutdown code runs) while a call is
/// parked, and a second process started on the same ports and data directory must clean up after it from the journal.
/// </summary>
[Platform("Linux")]
[NonParallelizable]
public class ParkRestartProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Bound = LabPhone.Bound;

    [Test]
    public async Task After_a_kill_9_with_a_call_parked_a_second_process_on_the_same_data_BYEs_the_parked_party_tells_the_parker_and_lists_nothing()
    {
        using var setup = new ParkPoolSetup();
        using var http = new HttpClient { BaseAddress = setup.AdminUrl, Timeout = Bound };
        using var first = setup.Start();
        Assert.That(await first.WaitUntilStartedAsync(StartTimeout), Is.True, first.Output + first.Error);
        await using var alice = await LabPhone.StartAsync("alice", setup.SipEndPoint);
        await using var bob = await LabPhone.StartAsync("bob", setup.SipEndPoint);
        Assert.That((await alice.RegisterAsync()).StatusCode, Is.EqualTo(200));
        Assert.That((await bob.RegisterAsync()).StatusCode, Is.EqualTo(200));
        // The "parked" MESSAGE is sent only after the park was journaled, so from here on the journal holds it.
        var (bobParkLeg, orbit) = await alice.ParkByBlindTransferAsync(bob);
        Assert.That(orbit, Is.EqualTo("7000"));
        Assert.That(Orbits(await http.GetFromJsonAsync<JsonElement>("/parked")), Is.EqualTo(new[] { "7000" }), "the first process has bob parked");

        first.Send(PosixSignalNumber.Kill);
        Assert.That(await first.WaitForExitAsync(StopTimeout), Is.EqualTo(128 + 9), "killed by SIGKILL");
        Assert.That(bobParkLeg.IsEnded, Is.False, "a killed process sends nothing: bob still thinks he is parked");

        using var second = setup.Start();
        Assert.That(await second.WaitUntilStartedAsync(StartTimeout), Is.True, second.Output + second.Error);

        Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp), "the second process sent bob a BYE in the old dialog");
        var notice = await alice.NextMessageAsync();
        Assert.Multiple(() =>
        {
            Assert.That(notice.BodyText, Does.Contain("park server restarted").And.Contain("orbit 7000"));
            Assert.That(notice.Headers.Get("X-Park-Orbit"), Is.EqualTo("7000"));
        });
        Assert.That(Orbits(await http.GetFromJsonAsync<JsonElement>("/parked")), Is.Empty, "the second process has nothing parked");

        await second.StopAsync(StopTimeout);
        Assert.Multiple(() =>
        {
            Assert.That(SqliteQuery.Scalar(setup.DatabasePath, "PRAGMA integrity_check;"), Is.EqualTo("ok"), "the SQLite file survived the kill");
            Assert.That(SqliteQuery.Scalar(setup.DatabasePath, "SELECT count(*) FROM parked_dialogs;"), Is.EqualTo("0"), "the torn-down park left the journal");
        });
    }

    private static string[] Orbits(JsonElement parked) =>
        parked.EnumerateArray().Select(call => call.GetProperty("orbit").GetString()!).ToArray();
}
