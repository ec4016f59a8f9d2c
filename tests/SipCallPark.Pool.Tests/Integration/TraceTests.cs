using System.Diagnostics;
using System.Net;
using System.Net.ServerSentEvents;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using SipCallPark.Pool.Admin;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>
/// <c>GET /trace</c> on a live pool (admin API on a reserved port): what lab phones send and get back shows up, each
/// subscriber sees only its filter's messages, and a subscriber that stops reading never slows the SIP path.
/// </summary>
public class TraceTests : IntegrationTest
{
    /// <summary>An OPTIONS to the pool itself (answered 200 locally), from <paramref name="phone"/>'s user.</summary>
    private static SipRequest Options(LabPhone phone, string callId, int bodyBytes = 0)
    {
        var request = new SipRequest(SipMethods.Options, SipUri.Parse($"sip:{LabPools.Domain}"));
        request.Headers.Add(HeaderNames.From, $"<{LabPhone.Aor(phone.User)}>;tag={phone.Stack.Ids.NewTag()}");
        request.Headers.Add(HeaderNames.To, $"<sip:{LabPools.Domain}>");
        request.Headers.Add(HeaderNames.CallId, callId);
        request.Headers.Add(HeaderNames.CSeq, $"1 {SipMethods.Options}");
        if (bodyBytes > 0) request.SetBody("text/plain", new string('x', bodyBytes));
        return request;
    }

    private static async Task<HttpResponseMessage> SubscribeAsync(HttpClient http, string query)
    {
        var response = await http.GetAsync("/trace" + query, HttpCompletionOption.ResponseHeadersRead).WaitAsync(LabPhone.Bound);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        return response;
    }

    /// <summary>The <c>sip</c> events of <paramref name="response"/> until <paramref name="enough"/> holds (bounded).</summary>
    private static async Task<List<TraceMessageDto>> ReadUntilAsync(HttpResponseMessage response, Func<List<TraceMessageDto>, bool> enough)
    {
        var seen = new List<TraceMessageDto>();
        using var bound = new CancellationTokenSource(LabPhone.Bound);
        var parser = SseParser.Create(await response.Content.ReadAsStreamAsync(), (type, data) =>
            type == "sip" ? JsonSerializer.Deserialize<TraceMessageDto>(data, AdminJson.Options) : null);
        await foreach (var item in parser.EnumerateAsync(bound.Token))
        {
            if (item.Data is { } message) seen.Add(message);
            if (enough(seen)) break;
        }
        return seen;
    }

    [Test]
    public async Task A_subscriber_sees_its_users_options_and_register_both_ways_and_nothing_of_other_users()
    {
        var lab = await StartLabAsync(replication: true);
        using var http = new HttpClient { BaseAddress = lab.A.AdminUrl, Timeout = Timeout.InfiniteTimeSpan };
        using var byUser = await SubscribeAsync(http, "?user=ALICE");
        using var byCall = await SubscribeAsync(http, "?callId=trace-options-1&body=true");
        var alice = await lab.PhoneAsync("alice", lab.A);
        var bob = await lab.PhoneAsync("bob", lab.A);

        Assert.That((await bob.RegisterAsync()).StatusCode, Is.EqualTo(200));
        Assert.That((await alice.SendAsync(Options(alice, "trace-options-1"))).StatusCode, Is.EqualTo(200));
        Assert.That((await alice.RegisterAsync()).StatusCode, Is.EqualTo(200));

        var alices = await ReadUntilAsync(byUser, seen => seen.Any(m => m.Direction == SipDirection.Out && m.FirstLine.Contains("200") && m.CSeq!.EndsWith("REGISTER")));
        var oneCall = await ReadUntilAsync(byCall, seen => seen.Count == 2);

        var lines = alices.Select(m => $"{m.Direction} {m.FirstLine} / {m.CSeq}").ToList();
        Assert.Multiple(() =>
        {
            Assert.That(lines, Does.Contain("In OPTIONS sip:callpark.lab SIP/2.0 / 1 OPTIONS"));
            Assert.That(lines, Has.Some.Match("^Out SIP/2.0 200 .* / 1 OPTIONS$"));
            Assert.That(lines, Has.Some.Match("^In REGISTER sip:callpark.lab SIP/2.0 / \\d+ REGISTER$"));
            Assert.That(lines, Has.Some.Match("^Out SIP/2.0 401 .* / \\d+ REGISTER$"));
            Assert.That(alices, Has.All.Matches<TraceMessageDto>(m => m.FromUser == "alice" || m.ToUser == "alice"), "bob's REGISTER is filtered out");
            Assert.That(alices.Select(m => m.Text), Has.All.Null, "no body=true, no text");
            var local = lab.A.SipEndPoint.ToString();
            Assert.That(alices, Has.All.Matches<TraceMessageDto>(m => m.Transport == "udp" && m.Local == local && m.Remote == alice.Contact.Host + ":" + alice.Contact.Port));

            Assert.That(oneCall.Select(m => m.Direction), Is.EqualTo(new[] { SipDirection.In, SipDirection.Out }));
            Assert.That(oneCall, Has.All.Matches<TraceMessageDto>(m => m.CallId == "trace-options-1"));
            Assert.That(oneCall[0].Text, Does.StartWith("OPTIONS sip:callpark.lab SIP/2.0\r\n").And.Contain("Call-ID: trace-options-1\r\n"));
            Assert.That(oneCall[1].Text, Does.StartWith("SIP/2.0 200 "));
        });
    }

    [Test]
    public async Task A_subscriber_that_stops_reading_does_not_slow_the_pool_and_learns_how_many_messages_it_missed()
    {
        var lab = await StartLabAsync(replication: true, traceCapacity: 20);
        var admin = lab.A.AdminUrl!;
        // A client that asks for every message in full, then reads nothing: a tiny receive window, so the pool's
        // socket and Kestrel's buffers fill soon and the trace queue behind them overflows.
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stalled.ConnectAsync(IPAddress.Loopback, admin.Port).WaitAsync(LabPhone.Bound);
        await stalled.SendAsync(Encoding.ASCII.GetBytes($"GET /trace?user=alice&body=true HTTP/1.1\r\nHost: 127.0.0.1:{admin.Port}\r\n\r\n"));
        await WaitUntilAsync(() => lab.A.Trace.SubscriberCount == 1);
        var alice = await lab.PhoneAsync("alice", lab.A);

        var slowest = TimeSpan.Zero;
        var sent = 0;
        var clock = Stopwatch.StartNew();
        // Bounded: 2,000 OPTIONS of ~30 KB (~120 MB of trace) or 60 s, far beyond any socket buffer.
        while (Dropped(lab) == 0 && sent < 2000 && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var started = Stopwatch.GetTimestamp();
            var answer = await alice.SendAsync(Options(alice, $"stall-{sent}", bodyBytes: 30_000));
            var took = Stopwatch.GetElapsedTime(started);
            if (took > slowest) slowest = took;
            Assert.That(answer.StatusCode, Is.EqualTo(200));
            sent++;
        }
        Assert.That(Dropped(lab), Is.GreaterThan(0), $"the stalled subscriber's queue never overflowed after {sent} OPTIONS");
        // With the queue full, the pool still answers as if nobody were tracing.
        for (var i = 0; i < 5; i++)
        {
            var started = Stopwatch.GetTimestamp();
            Assert.That((await alice.SendAsync(Options(alice, $"after-{i}"))).StatusCode, Is.EqualTo(200));
            var took = Stopwatch.GetElapsedTime(started);
            if (took > slowest) slowest = took;
        }
        // A SIP path that waited for the stalled subscriber would never answer; the bound is loose so that a busy
        // machine (CI runs the test projects side by side) does not fail it for a slow scheduler.
        Assert.That(slowest, Is.LessThan(TimeSpan.FromSeconds(5)), $"slowest OPTIONS of {sent + 5} while the subscriber stalled");

        // Reading at last, the subscriber is told how many it missed.
        var missed = await ReadDroppedCountAsync(stalled);
        Assert.That(missed, Is.GreaterThan(0));
    }

    private static long Dropped(LabPools lab)
    {
        var line = lab.A.Metrics.Render().Split('\n').FirstOrDefault(l => l.StartsWith("sipcallpark_trace_dropped_total ", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Reads the stalled stream (bounded in time and bytes) up to its first <c>dropped</c> event; its count.</summary>
    private static async Task<long> ReadDroppedCountAsync(Socket socket)
    {
        var pattern = new Regex("event: dropped\ndata: \\{\"count\":(\\d+)\\}\n");
        var text = new StringBuilder();
        var buffer = new byte[64 * 1024];
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        for (long total = 0; total < 512L * 1024 * 1024;)
        {
            var read = await socket.ReceiveAsync(buffer, bound.Token);
            if (read == 0) break;
            total += read;
            // Each batch is one write (one chunk), so the event arrives whole; keep only a tail of what was read.
            text.Append(Encoding.UTF8.GetString(buffer, 0, read));
            if (pattern.Match(text.ToString()) is { Success: true } match) return long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (text.Length > 256 * 1024) text.Remove(0, text.Length - 1024);
        }
        Assert.Fail("no dropped event in the stream");
        return 0;
    }
}
