using System.Diagnostics;
using System.Text.Json;
using SipCallPark.Sip.Tracing;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Tests.Hosting;

/// <summary>
/// The pcap trace of the real executable (<c>--pcap FILE --pcap-rtp</c>) against its own log: a park flow by lab
/// phones, the pool stopped, then the SIP frames in the pcap are counted against the transport's per-message Debug log
/// lines (event 1148), by our reader and by tshark, and the music-on-hold frames must decode as RTP.
/// </summary>
[Platform("Linux")]
[NonParallelizable]
public class PcapProcessTests
{
    private const int MessageSummaryEventId = 1148; // TransportLog.MessageSummary: one Debug line per SIP message in or out
    private const int PcapClosedEventId = 1305; // TracingLog.PcapClosed: the trace is complete (1306 when it dropped some)
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Bound = LabPhone.Bound;

    [Test]
    public async Task A_park_flow_pcap_holds_one_frame_per_logged_SIP_message_nothing_malformed_and_its_RTP_decodes()
    {
        using var setup = new ParkPoolSetup();
        string pcap = Path.Combine(setup.Folder, "trace.pcap");
        string logs = Path.Combine(setup.Folder, "logs");
        // The trace is under test here, not load shedding (OverloadGuardTests): on a saturated machine (load 40 on two
        // cores) the first REGISTER after the start waited longer than the shipped 300 ms and was answered 503.
        using var pool = setup.Start("--pcap", pcap, "--pcap-rtp", "--log-level", "Debug", $"--Serilog:WriteTo:1:Args:path={logs}/pool-a-.json",
            "--Pool:Overload:MaxQueueDelay=00:00:05");
        Assert.That(await pool.WaitUntilStartedAsync(StartTimeout), Is.True, pool.Output + pool.Error);

        string orbit;
        await using (var alice = await LabPhone.StartAsync("alice", setup.SipEndPoint))
        await using (var bob = await LabPhone.StartAsync("bob", setup.SipEndPoint))
        {
            foreach (var phone in new[] { alice, bob })
            {
                var registered = await phone.RegisterAsync();
                Assert.That(registered.StatusCode, Is.EqualTo(200), $"{registered} (Warning: {registered.Response?.Headers.Get("Warning")})");
            }
            (var bobParkLeg, orbit) = await alice.ParkByBlindTransferAsync(bob);
            // Music plays to bob while he is parked: wait (bounded) until the trace file holds some of it.
            Assert.That(await WaitForAsync(() => MediaFrames(Frames(setup.Folder), setup).Count >= 5, TimeSpan.FromSeconds(15)), Is.True,
                "no music-on-hold RTP in the pcap within 15 s");
            using var http = new HttpClient { BaseAddress = setup.AdminUrl, Timeout = Bound };
            using (var unpark = await http.DeleteAsync($"/parked/{orbit}"))
            {
                Assert.That((int)unpark.StatusCode, Is.EqualTo(200), await unpark.Content.ReadAsStringAsync());
            }
            await bobParkLeg.Ended.WaitAsync(Bound);
            string metrics = await http.GetStringAsync("/metrics");
            Assert.That(Gauge(metrics, "sipcallpark_pcap_messages_dropped"), Is.Zero, "the writer's dropped-message gauge while the pool runs");
            Assert.That(Gauge(metrics, "sipcallpark_pcap_messages_written"), Is.GreaterThan(20));
        }

        pool.Send(PosixSignalNumber.Terminate); // a clean stop flushes the trace
        Assert.That(await pool.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.Zero, pool.Output + pool.Error);

        string[] logLines = [.. Directory.GetFiles(logs, "pool-a-*.json").SelectMany(File.ReadLines)];
        int logged = logLines.Count(l => l.Contains($"\"EventId\":{{\"Id\":{MessageSummaryEventId},", StringComparison.Ordinal));
        // The writer's last word: what it wrote and dropped. A drop (queue full, file failure) would be named here and
        // in the gauge above; none is expected from fifty messages, so every logged message must be a frame.
        string? closed = logLines.SingleOrDefault(l => l.Contains($"\"EventId\":{{\"Id\":{PcapClosedEventId},", StringComparison.Ordinal));
        Assert.That(closed, Is.Not.Null, "the pcap writer logs that it closed the trace complete (event 1305): " +
            string.Join(Environment.NewLine, logLines.Where(l => l.Contains("pcap", StringComparison.OrdinalIgnoreCase))));
        using (var line = JsonDocument.Parse(closed!))
        {
            Assert.That(line.RootElement.GetProperty("Dropped").GetInt64(), Is.Zero);
            Assert.That(line.RootElement.GetProperty("Written").GetInt64(), Is.EqualTo(logged), "the writer wrote every SIP message the transport logged");
        }
        var frames = Frames(setup.Folder);
        var sip = frames.Where(f => f.Source.Port == setup.SipPort || f.Destination.Port == setup.SipPort).ToList();
        var media = MediaFrames(frames, setup);
        Assert.That(logged, Is.GreaterThan(20), "REGISTERs, the call, the REFER, the park's INVITE, MESSAGE, BYEs, probes");
        Assert.That(sip, Has.Count.EqualTo(logged), "one pcap frame per SIP message the transport logged");
        Assert.That(sip.All(f => f.Protocol == SipProtocol.Udp), Is.True);
        Assert.That(frames, Has.Count.EqualTo(sip.Count + media.Count), "nothing else in the trace");
        Assert.That(media.All(f => f.Payload.Length == 172 && f.Payload[0] >> 6 == 2 && (f.Payload[1] & 0x7F) == 0), Is.True,
            "RTP version 2, PCMU, 160 bytes of audio");

        string? tshark = FindTshark();
        if (tshark is null) Assert.Ignore("tshark is not on PATH: the counts above hold, tshark's decoding is not checked");
        int mediaPort = media[0].Source.Port;
        string[] decodeAs = ["-d", $"udp.port=={setup.SipPort},sip", "-d", $"udp.port=={mediaPort},rtp"];
        string[] files = [.. Directory.GetFiles(setup.Folder, "trace*.pcap").Order(StringComparer.Ordinal)];
        int tsharkSip = 0, tsharkRtp = 0;
        foreach (string file in files)
        {
            tsharkSip += Lines(await RunAsync(tshark!, ["-r", file, .. decodeAs, "-Y", "sip", "-T", "fields", "-e", "frame.number"])).Length;
            tsharkRtp += Lines(await RunAsync(tshark!, ["-r", file, .. decodeAs, "-Y", $"rtp && udp.srcport == {mediaPort} && rtp.p_type == 0", "-T", "fields", "-e", "rtp.seq"])).Length;
            Assert.That(Lines(await RunAsync(tshark!, ["-r", file, .. decodeAs, "-Y", "_ws.malformed"])), Is.Empty, $"malformed frames in {file}");
        }
        Assert.That(tsharkSip, Is.EqualTo(logged), "tshark -Y sip counts as many SIP messages as the log");
        Assert.That(tsharkRtp, Is.EqualTo(media.Count(f => f.Source.Port == mediaPort)), "tshark decodes every music frame as RTP/PCMU");
    }

    private static double Gauge(string metrics, string name) =>
        metrics.Split('\n').Where(l => l.StartsWith(name + " ", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture))
            .DefaultIfEmpty(double.NaN).First();

    private static List<PcapFrame> Frames(string folder)
    {
        var frames = new List<PcapFrame>();
        foreach (string file in Directory.GetFiles(folder, "trace*.pcap").Order(StringComparer.Ordinal))
        {
            try
            {
                frames.AddRange(PcapTraceWriter.ReadAll(file));
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
            {
                // Read while the pool writes: a record cut at the end; the caller asks again.
            }
        }
        return frames;
    }

    private static List<PcapFrame> MediaFrames(List<PcapFrame> frames, ParkPoolSetup setup) =>
        [.. frames.Where(f => f.Source.Port >= setup.MediaFirstPort && f.Source.Port < setup.MediaFirstPort + 100)];

    private static async Task<bool> WaitForAsync(Func<bool> condition, TimeSpan bound)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > bound) return false;
            await Task.Delay(100);
        }
        return true;
    }

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string? FindTshark() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "tshark")).FirstOrDefault(File.Exists);

    private static async Task<string> RunAsync(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true); // this tshark only, by its own handle
            Assert.Fail($"{program} did not finish within 60 s");
        }
        Assert.That(process.ExitCode, Is.Zero, await errors);
        return await output;
    }
}
