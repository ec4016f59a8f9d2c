using SipCallPark.Sip.Message;
using SipCallPark.Sip.Tracing;
using SipCallPark.Sip.Transport;
using static SipCallPark.Sip.Tests.Tracing.TraceMessages;

namespace SipCallPark.Sip.Tests.Tracing;

/// <summary>The trace as Wireshark's own dissectors see it: every frame is SIP, none is malformed.</summary>
public class TsharkTests
{
    [Test]
    public async Task Tshark_decodes_every_message_as_SIP_and_finds_nothing_malformed()
    {
        string? tshark = Tshark.Find();
        if (tshark is null) Assert.Ignore("tshark is not on PATH");

        using var dir = new TempDirectory();
        string file = dir.File("trace.pcap");
        IReadOnlyList<SipMessageEvent> events = [.. Mixed(), In(SipProtocol.Tcp, PhoneV4, PoolV4, Request("MESSAGE", 5, body: new string('x', 70_000)))];
        await using (var writer = new PcapTraceWriter(new PcapOptions { Path = file }, TimeProvider.System))
        {
            foreach (SipMessageEvent e in events) writer.Observe(e);
        }

        (int exit, string output, string errors) = await Tshark.RunAsync(tshark!, "-r", file, "-Y", "sip", "-T", "fields", "-e", "sip.Method", "-e", "sip.Status-Code");
        Assert.That(exit, Is.Zero, errors);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string[] expected = [.. events.Select(e => e.Message is SipRequest r ? r.Method : ((SipResponse)e.Message).StatusCode.ToString())];
        Assert.That(lines, Is.EqualTo(expected), "one SIP line per message, in order, with its method or status");

        (exit, output, errors) = await Tshark.RunAsync(tshark!, "-r", file, "-Y", "_ws.malformed || _ws.expert.severity >= \"warning\"");
        Assert.That(exit, Is.Zero, errors);
        Assert.That(output.Trim(), Is.Empty, "no malformed frames and no expert warnings");
    }
}
