using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary><c>GET /events</c> of a running pool (no browser): what a REGISTER, a park and a retrieve publish.</summary>
[TestFixture]
public sealed class ConsoleStreamTests : IntegrationTest
{
    private const string Token = "lab-console-token";
    private static readonly TimeSpan Bound = LabPhone.Bound;

    private static async Task<StreamReader> OpenAsync(HttpClient http)
    {
        using var ask = new HttpRequestMessage(HttpMethod.Post, "/console/tickets") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", Token) } };
        using var answer = await http.SendAsync(ask).WaitAsync(Bound);
        var ticket = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("ticket").GetString();
        var response = await http.GetAsync($"/events?ticket={ticket}", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Bound);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        return new StreamReader(await response.Content.ReadAsStreamAsync());
    }

    /// <summary>Reads events until one named <paramref name="name"/> satisfies <paramref name="match"/> (bounded).</summary>
    private static async Task<JsonElement> NextAsync(StreamReader reader, string name, Func<JsonElement, bool>? match = null)
    {
        var deadline = DateTime.UtcNow + Bound;
        string? current = null;
        while (DateTime.UtcNow < deadline)
        {
            var line = await reader.ReadLineAsync().WaitAsync(Bound) ?? throw new AssertionException("the stream ended");
            if (line.StartsWith("event: ", StringComparison.Ordinal)) current = line["event: ".Length..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && current == name)
            {
                var json = JsonDocument.Parse(line["data: ".Length..]).RootElement;
                if (match is null || match(json)) return json;
            }
        }
        throw new AssertionException($"no {name} event in time");
    }

    [Test]
    public async Task A_register_a_park_and_a_retrieve_each_reach_the_stream_as_they_happen()
    {
        var lab = await StartLabAsync(replication: true, adminToken: Token);
        using var http = new HttpClient { BaseAddress = lab.A.AdminUrl, Timeout = Timeout.InfiniteTimeSpan };
        using var reader = await OpenAsync(http);
        var snapshot = await NextAsync(reader, "snapshot");
        Assert.That(snapshot.GetProperty("parked").GetArrayLength(), Is.Zero);

        var alice = await RegisteredPhoneAsync(lab, "alice");
        var registration = await NextAsync(reader, "registration", j => j.GetProperty("aor").GetString() == "sip:alice@callpark.lab");
        var bob = await RegisteredPhoneAsync(lab, "bob");
        var carol = await RegisteredPhoneAsync(lab, "carol");
        Assert.That(registration.GetProperty("bindings")[0].GetProperty("mode").GetString(), Is.EqualTo("normal"));

        var (aliceCall, _) = await ConnectAsync(alice, bob);
        var d = aliceCall.Dialog;
        var referTo = new NameAddress(LabPhone.Aor("bob").WithHeader(HeaderNames.Replaces, new ReplacesHeader(d.Id.CallId, d.Id.RemoteTag, d.Id.LocalTag).ToString()));
        var parking = alice.Agent.ReferAsync(SipUri.Parse("sip:park@callpark.lab"), referTo, alice.Agent.Identity).WaitAsync(Bound);
        var bobParkLeg = await (await bob.NextIncomingAsync()).AnswerAsync(bob.Sdp);
        Assert.That((await parking).Succeeded, Is.True);
        var parked = await NextAsync(reader, "orbit", j => j.GetProperty("kind").GetString() == "parked");
        Assert.Multiple(() =>
        {
            Assert.That(parked.GetProperty("orbit").GetString(), Is.EqualTo("7000"));
            Assert.That(parked.GetProperty("call").GetProperty("parker").GetString(), Is.EqualTo("sip:alice@callpark.lab"));
            Assert.That(parked.GetProperty("call").GetProperty("state").GetString(), Is.EqualTo("Parked"));
        });

        bobParkLeg.OnRefer = refer => refer.RejectAsync(603);   // the bridge, not the transfer out: the simplest retrieve
        var carolCall = (await carol.CallAsync(SipUri.Parse("sip:7000@callpark.lab"))).Call!;
        var free = await NextAsync(reader, "orbit", j => j.GetProperty("kind").GetString() is "orbitFree" or "retrieved");
        Assert.That(free.GetProperty("orbit").GetString(), Is.EqualTo("7000"));
        Assert.That(free.GetProperty("call").ValueKind, Is.EqualTo(JsonValueKind.Null));
        await carolCall.HangUpAsync().WaitAsync(Bound);
    }
}
