using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.UserAgents;
using SipCallPark.Tests.Hosting;

namespace SipCallPark.Tests.Reliability;

/// <summary>
/// Crash under load with real processes: while phones register new contacts and park calls as fast as they can, the
/// pool gets SIGKILL at a seeded random moment, and a new process starts on the same ports and data directory. Over
/// several rounds: every binding acknowledged (200) before the kill is listed by the new process, every park dialog
/// established before the kill is BYE'd by the new process within 2 s of its start, and the SQLite file passes
/// <c>PRAGMA integrity_check</c> after each kill and at the end.
/// </summary>
[Platform("Linux")]
[NonParallelizable]
public class CrashProcessTests
{
    private const int Rounds = 5;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Bound = LabPhone.Bound;
    private static readonly TimeSpan TeardownLimit = TimeSpan.FromSeconds(2);

    /// <summary>The load registers a new contact per REGISTER for carol and dave, round after round: far past the
    /// default cap of 10 contacts per address of record, which is not what this test is about.</summary>
    private const string ManyContacts = "--Pool:Registrar:MaxContactsPerAor=1000";

    [TestCase(8)]
    public async Task Kill_9_at_random_moments_under_load_loses_no_acknowledged_binding_and_every_held_park_gets_BYE_within_2_s_of_restart(int seed)
    {
        var random = new Random(seed);
        using var setup = new ParkPoolSetup();
        using var http = new HttpClient { BaseAddress = setup.AdminUrl, Timeout = Bound };
        var pool = setup.Start(ManyContacts);
        var figures = new List<string>();
        try
        {
            Assert.That(await pool.WaitUntilStartedAsync(StartTimeout), Is.True, pool.Output + pool.Error);
            for (int round = 1; round <= Rounds; round++)
            {
                var killAfter = TimeSpan.FromMilliseconds(300 + random.Next(0, 2500));
                await using var load = await RoundLoad.StartAsync(setup, round);
                await Task.Delay(killAfter);
                pool.Send(PosixSignalNumber.Kill);
                var killedAt = Stopwatch.GetTimestamp();
                Assert.That(await pool.WaitForExitAsync(StopTimeout), Is.EqualTo(128 + 9), "killed by SIGKILL");
                load.Stop();
                pool.Dispose();
                var acked = load.BindingsAckedBefore(killedAt);
                var held = load.ParkLegsEstablishedBefore(killedAt);
                Assert.That(SqliteQuery.Scalar(setup.DatabasePath, "PRAGMA integrity_check;"), Is.EqualTo("ok"), $"round {round}: the SQLite file after the kill");

                pool = setup.Start(ManyContacts);
                Assert.That(await pool.WaitUntilStartedAsync(StartTimeout), Is.True, pool.Output + pool.Error);
                var ready = Stopwatch.GetTimestamp();

                var teardown = new List<TimeSpan>();
                foreach (var leg in held)
                {
                    Assert.That(await leg.Call.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp), $"round {round}: a park leg of before the kill got BYE");
                    teardown.Add(Stopwatch.GetElapsedTime(ready, load.EndedAt(leg.Call)));
                }

                var listed = (await http.GetFromJsonAsync<JsonElement>("/registrations")).EnumerateArray()
                    .Select(b => b.GetProperty("contact").GetString()!).ToHashSet();
                var lost = acked.Where(contact => !listed.Any(l => l.Contains(contact, StringComparison.Ordinal))).ToList();
                var slowest = teardown.Count == 0 ? TimeSpan.Zero : teardown.Max();
                figures.Add($"round {round}: kill after {killAfter.TotalMilliseconds:0} ms; {acked.Count} bindings acknowledged, {lost.Count} lost; " +
                            $"{held.Count} parks held, slowest BYE {slowest.TotalMilliseconds:0} ms after restart-ready");
                await TestContext.Out.WriteLineAsync(figures[^1]);
                Assert.That(lost, Is.Empty, $"round {round}: acknowledged bindings missing after restart");
                Assert.That(teardown, Has.All.LessThanOrEqualTo(TeardownLimit), $"round {round}: BYE delays after restart-ready");
                Assert.That(acked, Is.Not.Empty, $"round {round}: the load registered nothing before the kill");
                await load.UnregisterAsync();
            }

            await pool.StopAsync(StopTimeout);
            Assert.That(SqliteQuery.Scalar(setup.DatabasePath, "PRAGMA integrity_check;"), Is.EqualTo("ok"), "the SQLite file at the end");
            Assert.That(figures.Count(f => !f.Contains(" 0 parks held", StringComparison.Ordinal)), Is.GreaterThan(0),
                $"seed {seed} never killed the pool while a call was parked: {string.Join("; ", figures)}");
        }
        catch
        {
            await TestContext.Out.WriteLineAsync($"seed {seed}{Environment.NewLine}{string.Join(Environment.NewLine, figures)}{Environment.NewLine}{pool.Output}{pool.Error}");
            throw;
        }
        finally
        {
            pool.Dispose();
        }
    }

    /// <summary>
    /// Regression (found by the test above): a way-2 park was journaled only once the party's ACK came in, so a kill
    /// between the 200 and the ACK left the party in a park dialog no restarted process knew of, never torn down.
    /// Here the party's ACKs are lost, so the pool is still waiting for one when it is killed.
    /// </summary>
    [Test]
    public async Task A_park_answered_but_not_yet_acknowledged_when_the_pool_is_killed_gets_BYE_from_the_restarted_process()
    {
        using var setup = new ParkPoolSetup();
        var pool = setup.Start();
        try
        {
            Assert.That(await pool.WaitUntilStartedAsync(StartTimeout), Is.True, pool.Output + pool.Error);
            await using var alice = await LabPhone.StartAsync("alice", setup.SipEndPoint);
            await using var bob = await LabPhone.StartAsync("bob", setup.SipEndPoint, udp => new AckDroppingChannel(udp));
            Assert.That((await alice.RegisterAsync()).StatusCode, Is.EqualTo(200));
            Assert.That((await bob.RegisterAsync()).StatusCode, Is.EqualTo(200));
            var (aliceCall, bobCall) = await alice.ConnectAsync(bob);
            var followed = new TaskCompletionSource<CallAttempt>(TaskCreationOptions.RunContinuationsAsynchronously);
            bobCall.OnRefer = async refer => followed.TrySetResult(await refer.FollowAsync(bob.Sdp));
            _ = aliceCall.ReferAsync(new NameAddress(SipUri.Parse($"sip:park@{LabPhone.Domain}")), alice.Agent.Identity);
            var attempt = await followed.Task.WaitAsync(Bound);
            Assert.That(attempt.IsSuccess, Is.True, "bob got the park's 200 (his ACK is lost)");

            pool.Send(PosixSignalNumber.Kill);
            Assert.That(await pool.WaitForExitAsync(StopTimeout), Is.EqualTo(128 + 9));
            Assert.That(attempt.Call!.IsEnded, Is.False, "bob still thinks he is parked");
            pool.Dispose();
            pool = setup.Start();
            Assert.That(await pool.WaitUntilStartedAsync(StartTimeout), Is.True, pool.Output + pool.Error);

            Assert.That(await attempt.Call.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp), "the restarted pool BYE'd bob's park dialog");
        }
        finally
        {
            pool.Dispose();
        }
    }

    /// <summary>A phone channel that loses every ACK it sends.</summary>
    private sealed class AckDroppingChannel(SipCallPark.Sip.Transport.ISipChannel inner) : SipCallPark.Sip.Transport.ISipChannel
    {
        public SipCallPark.Sip.Transport.SipProtocol Protocol => inner.Protocol;

        public bool IsReliable => inner.IsReliable;

        public System.Net.IPEndPoint LocalEndPoint => inner.LocalEndPoint;

        public Task StartAsync(Func<SipCallPark.Sip.Transport.ReceivedFrame, ValueTask> onFrame, CancellationToken ct) => inner.StartAsync(onFrame, ct);

        public ValueTask<bool> SendAsync(ReadOnlyMemory<byte> data, System.Net.IPEndPoint remote, long connectionId, CancellationToken ct) =>
            data.Span.StartsWith("ACK "u8) ? ValueTask.FromResult(true) : inner.SendAsync(data, remote, connectionId, ct);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    /// <summary>
    /// One round's load on fresh phones: carol and dave REGISTER new contacts back to back, alice parks calls with bob
    /// (way 2) back to back. Records when each REGISTER was acknowledged and when each park leg was established.
    /// </summary>
    private sealed class RoundLoad : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentBag<(string Contact, long AckedAt)> _bindings = [];
        private readonly ConcurrentBag<(SipCall Call, long At)> _parkLegs = [];
        private readonly ConcurrentDictionary<SipCall, long> _ended = new();
        private readonly List<LabPhone> _phones = [];
        private readonly List<Task> _loops = [];

        public static async Task<RoundLoad> StartAsync(ParkPoolSetup setup, int round)
        {
            var load = new RoundLoad();
            foreach (var user in new[] { "alice", "bob", "carol", "dave" })
            {
                var phone = await LabPhone.StartAsync(user, setup.SipEndPoint);
                load._phones.Add(phone);
                Assert.That((await phone.RegisterAsync()).StatusCode, Is.EqualTo(200), $"{user} registers before the load");
            }

            load._loops.Add(Task.Run(() => load.RegisterLoopAsync(load._phones[2], round)));
            load._loops.Add(Task.Run(() => load.RegisterLoopAsync(load._phones[3], round)));
            load._loops.Add(Task.Run(() => load.ParkLoopAsync(load._phones[0], load._phones[1])));
            return load;
        }

        public void Stop() => _stop.Cancel();

        public List<string> BindingsAckedBefore(long killedAt) => [.. _bindings.Where(b => b.AckedAt < killedAt).Select(b => b.Contact)];

        public List<(SipCall Call, long At)> ParkLegsEstablishedBefore(long killedAt) => [.. _parkLegs.Where(l => l.At < killedAt)];

        public long EndedAt(SipCall call) => _ended.TryGetValue(call, out var at) ? at : Stopwatch.GetTimestamp();

        /// <summary>Removes this round's phones' own contacts, so the next round's calls do not fork to phones gone.</summary>
        public async Task UnregisterAsync()
        {
            foreach (var phone in _phones) await phone.RegisterAsync(expires: 0);
        }

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            // Flows cut by the kill end on their own bounds (each wait is bounded by LabPhone.Bound).
            await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(45)).ContinueWith(_ => { }, TaskScheduler.Default);
            foreach (var phone in _phones) await phone.DisposeAsync();
        }

        private async Task RegisterLoopAsync(LabPhone phone, int round)
        {
            for (int i = 0; i < 10_000 && !_stop.IsCancellationRequested; i++)
            {
                var contact = $"sip:{phone.User}-r{round}-{i}@127.0.0.1:9";
                var request = new SipRequest(SipMethods.Register, SipUri.Parse($"sip:{LabPhone.Domain}"));
                request.Headers.Add(HeaderNames.From, $"<{LabPhone.Aor(phone.User)}>;tag={phone.Stack.Ids.NewTag()}");
                request.Headers.Add(HeaderNames.To, $"<{LabPhone.Aor(phone.User)}>");
                request.Headers.Add(HeaderNames.CallId, phone.Stack.Ids.NewCallId("127.0.0.1"));
                request.Headers.Add(HeaderNames.CSeq, $"1 {SipMethods.Register}");
                request.Headers.Add(HeaderNames.Contact, $"<{contact}>");
                request.Headers.Add(HeaderNames.Expires, "3600");
                try
                {
                    var result = await phone.Agent.SendOutOfDialogAsync(request, phone.Pool).WaitAsync(Bound);
                    if (result.StatusCode == 200) _bindings.Add((contact, Stopwatch.GetTimestamp()));
                    else return;
                }
                catch (Exception e) when (e is TimeoutException or OperationCanceledException or InvalidOperationException)
                {
                    return; // the pool died under this request
                }
            }
        }

        private async Task ParkLoopAsync(LabPhone parker, LabPhone party)
        {
            for (int i = 0; i < 200 && !_stop.IsCancellationRequested; i++)
            {
                try
                {
                    var dialling = parker.Agent.CallAsync(LabPhone.Aor(party.User), new CallOptions { Sdp = parker.Sdp }).WaitAsync(Bound);
                    var partyCall = await (await party.NextIncomingAsync()).AnswerAsync(party.Sdp);
                    var attempt = await dialling;
                    if (!attempt.IsSuccess) return;
                    var followed = new TaskCompletionSource<CallAttempt>(TaskCreationOptions.RunContinuationsAsynchronously);
                    partyCall.OnRefer = async refer => followed.TrySetResult(await refer.FollowAsync(party.Sdp));
                    var transfer = attempt.Call!.ReferAsync(new NameAddress(SipUri.Parse($"sip:park@{LabPhone.Domain}")), parker.Agent.Identity).WaitAsync(Bound);
                    var leg = await followed.Task.WaitAsync(Bound);
                    if (!leg.IsSuccess) return;
                    var call = leg.Call!;
                    _parkLegs.Add((call, Stopwatch.GetTimestamp()));
                    _ = call.Ended.ContinueWith(_ => _ended.TryAdd(call, Stopwatch.GetTimestamp()), TaskScheduler.Default);
                    await transfer;
                    await parker.NextMessageAsync();
                    await attempt.Call.HangUpAsync().WaitAsync(Bound);
                }
                catch (Exception e) when (e is TimeoutException or OperationCanceledException or InvalidOperationException)
                {
                    return; // the pool died in the middle of this park
                }
            }
        }
    }
}
