using System.Text;
using SipCallPark.Sip.Tests.Message.Torture;
using SipCallPark.Tests.Hosting;

namespace SipCallPark.Tests.Torture;

[Platform("Linux")]
[NonParallelizable]
public class WireTortureProcessTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    public static IEnumerable<(string Name, byte[] Bytes)> AllVectors =>
        ValidVectors.All.Concat(InvalidVectors.All).Concat(ApplicationVectors.All);

    [TestCase(false)]
    [TestCase(true)]
    public async Task Observe(bool tcp)
    {
        using var setup = new ParkPoolSetup();
        using var pool = setup.Start();
        Assert.That(await pool.WaitUntilStartedAsync(TimeSpan.FromSeconds(60)), Is.True, pool.Output + pool.Error);
        var report = new StringBuilder();
        var n = 0;
        foreach (var (name, bytes) in AllVectors)
        {
            await using var client = await WireClient.ConnectAsync(tcp, setup.SipEndPoint);
            var toSend = bytes;
            var aimed = tcp || client.TryAimVia(bytes, out toSend);
            await client.SendAsync(toSend);
            var pingId = $"ping-{name}-{++n}";
            var pinger = client;
            WireClient? fresh = null;
            if (tcp && client.Closed.IsCompleted) pinger = fresh = await WireClient.ConnectAsync(true, setup.SipEndPoint);
            await pinger.SendAsync(pinger.Ping(pingId));
            var pong = await pinger.WaitForAsync(r => r.CallId == pingId, Bound);
            await Task.Delay(300);
            var answers = client.Responses.Where(r => r.CallId != pingId && r.Status >= 200).Select(r => r.Status).ToArray();
            var endpoint = $"{(tcp ? "tcp" : "udp")}:127.0.0.1:{client.Local.Port}";
            var lines = pool.Output.Split('\n').Where(l => l.Contains(endpoint, StringComparison.Ordinal)).ToArray();
            report.AppendLine($"{name,-12} aimed={aimed} pong={pong?.Status} answers=[{string.Join(",", answers)}] closed={client.Closed.IsCompleted} lines={lines.Length} {string.Join(" || ", lines.Select(l => l.Trim()))}");
            if (fresh is not null) await fresh.DisposeAsync();
        }
        TestContext.Out.WriteLine(report.ToString());
        File.WriteAllText($"/tmp/torture-{(tcp ? "tcp" : "udp")}.txt", report.ToString() + "\n----\n" + pool.Output);
    }
}
