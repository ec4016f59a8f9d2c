using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Tests.Hosting;

/// <summary>The admin API's park endpoints (docs/design.md §8) on the real executable, with a call really parked by lab phones.</summary>
[Platform("Linux")]
[NonParallelizable]
public class ParkAdminProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Bound = LabPhone.Bound;

    [Test]
    public async Task GET_parked_lists_the_orbit_the_parked_party_the_parker_since_the_timeout_due_and_the_attempts()
    {
        await using var lab = await ParkedLab.StartAsync();

        var before = DateTimeOffset.UtcNow;
        var (_, orbit) = await lab.Alice.ParkByBlindTransferAsync(lab.Bob);
        var after = DateTimeOffset.UtcNow;
        var parked = await lab.Http.GetFromJsonAsync<JsonElement>("/parked");

        Assert.That(parked.GetArrayLength(), Is.EqualTo(1), parked.ToString());
        var call = parked[0];
        var since = call.GetProperty("since").GetDateTimeOffset();
        Assert.Multiple(() =>
        {
            Assert.That(call.GetProperty("orbit").GetString(), Is.EqualTo(orbit).And.EqualTo("7000"));
            Assert.That(call.GetProperty("parkedParty").GetString(), Does.Contain("sip:bob@callpark.lab"));
            Assert.That(call.GetProperty("parker").GetString(), Is.EqualTo("sip:alice@callpark.lab"));
            Assert.That(since, Is.InRange(before.AddSeconds(-1), after.AddSeconds(1)), "parked during the transfer");
            Assert.That(call.GetProperty("timeoutDue").GetDateTimeOffset(), Is.EqualTo(since.AddSeconds(90)).Within(TimeSpan.FromSeconds(1)),
                "CallPickupTimeout of the shipped pool-a.json is 90 s");
            Assert.That(call.GetProperty("attempts").GetInt32(), Is.Zero);
            Assert.That(call.GetProperty("pool").GetString(), Is.EqualTo("pool-a"));
        });
    }

    [Test]
    public async Task DELETE_parked_orbit_answers_200_and_the_parked_phone_gets_BYE_and_an_empty_orbit_answers_404()
    {
        await using var lab = await ParkedLab.StartAsync();
        var (bobParkLeg, orbit) = await lab.Alice.ParkByBlindTransferAsync(lab.Bob);

        using var unpark = await lab.Http.DeleteAsync($"/parked/{orbit}");

        Assert.That(unpark.StatusCode, Is.EqualTo(HttpStatusCode.OK), await unpark.Content.ReadAsStringAsync());
        Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp), "the pool sent bob a BYE");
        Assert.That((await lab.Alice.NextMessageAsync()).BodyText, Does.Contain("disconnected by an operator"));
        Assert.That((await lab.Http.GetFromJsonAsync<JsonElement>("/parked")).GetArrayLength(), Is.Zero);

        using var again = await lab.Http.DeleteAsync($"/parked/{orbit}");
        using var never = await lab.Http.DeleteAsync("/parked/7042");
        var error = await never.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Multiple(() =>
        {
            Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "the orbit is empty now");
            Assert.That(never.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "an orbit nobody used");
            Assert.That(error.GetProperty("error").GetString(), Does.Contain("7042"));
        });
    }

    /// <summary>A pool process with alice and bob registered, and an HTTP client for its admin API; disposed phones first.</summary>
    private sealed class ParkedLab : IAsyncDisposable
    {
        private ParkedLab(ParkPoolSetup setup, PoolProcess pool, HttpClient http, LabPhone alice, LabPhone bob)
        {
            Setup = setup;
            Pool = pool;
            Http = http;
            Alice = alice;
            Bob = bob;
        }

        public ParkPoolSetup Setup { get; }

        public PoolProcess Pool { get; }

        public HttpClient Http { get; }

        public LabPhone Alice { get; }

        public LabPhone Bob { get; }

        public static async Task<ParkedLab> StartAsync()
        {
            var setup = new ParkPoolSetup();
            var pool = setup.Start();
            if (!await pool.WaitUntilStartedAsync(StartTimeout))
            {
                var output = pool.Output + pool.Error;
                pool.Dispose();
                setup.Dispose();
                Assert.Fail($"the pool did not start: {output}");
            }
            var lab = new ParkedLab(setup, pool, new HttpClient { BaseAddress = setup.AdminUrl, Timeout = Bound },
                await LabPhone.StartAsync("alice", setup.SipEndPoint), await LabPhone.StartAsync("bob", setup.SipEndPoint));
            Assert.That((await lab.Alice.RegisterAsync()).StatusCode, Is.EqualTo(200));
            Assert.That((await lab.Bob.RegisterAsync()).StatusCode, Is.EqualTo(200));
            return lab;
        }

        public async ValueTask DisposeAsync()
        {
            await Alice.DisposeAsync();
            await Bob.DisposeAsync();
            Http.Dispose();
            Pool.Dispose();
            Setup.Dispose();
        }
    }
}
