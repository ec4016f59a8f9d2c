using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using SipCallPark.Sip.Tracing;

namespace SipCallPark.Tests.Hosting;

/// <summary>
/// The HEP3 export of the real executable (<c>--hep udp:127.0.0.1:PORT --pcap FILE</c>): two phones register, the pool
/// stops, and every SIP frame of its pcap must have arrived at a loopback HEP receiver exactly once, with the same
/// addresses, ports and bytes. The Kamailio proof of the same is tools/interop/run-hep.sh.
/// </summary>
[Platform("Linux")]
[NonParallelizable]
public class HepProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    [Test]
    public async Task Every_SIP_message_of_the_pcap_arrives_at_the_HEP_receiver_once_with_the_same_addresses_and_bytes()
    {
        using var receiver = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int hepPort = ((IPEndPoint)receiver.Client.LocalEndPoint!).Port;
        using var setup = new ParkPoolSetup();
        string pcap = Path.Combine(setup.Folder, "trace.pcap");
        using var pool = setup.Start("--pcap", pcap, "--hep", $"udp:127.0.0.1:{hepPort}", "--Pool:Trace:Hep:AgentId=2001",
            "--Pool:Trace:Hep:Password=homer-pw");
        Assert.That(await pool.WaitUntilStartedAsync(StartTimeout), Is.True, pool.Output + pool.Error);

        await using (var alice = await LabPhone.StartAsync("alice", setup.SipEndPoint))
        await using (var bob = await LabPhone.StartAsync("bob", setup.SipEndPoint))
        {
            Assert.That((await alice.RegisterAsync()).StatusCode, Is.EqualTo(200));
            Assert.That((await bob.RegisterAsync()).StatusCode, Is.EqualTo(200));
        }
        pool.Send(PosixSignalNumber.Terminate); // a clean stop flushes the pcap and sends what the HEP queue holds
        Assert.That(await pool.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.Zero, pool.Output + pool.Error);

        var frames = Directory.GetFiles(setup.Folder, "trace*.pcap").Order(StringComparer.Ordinal).SelectMany(PcapTraceWriter.ReadAll)
            .Where(f => f.Source.Port == setup.SipPort || f.Destination.Port == setup.SipPort).ToList();
        Assert.That(frames, Has.Count.GreaterThanOrEqualTo(4), "two REGISTERs with their challenges");
        var packets = new List<byte[]>();
        while (receiver.Available > 0 || packets.Count < frames.Count)
        {
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(packets.Count < frames.Count ? 10 : 1));
            try
            {
                packets.Add((await receiver.ReceiveAsync(wait.Token)).Buffer);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        var received = packets.Select(Decode).ToList();
        var expected = frames.Select(f => (f.Source, f.Destination, Convert.ToHexString(f.Payload))).ToList();
        Assert.That(received.Select(r => (r.Source, r.Destination, r.Payload)), Is.EquivalentTo(expected),
            "one HEP packet per pcap frame: same source, destination and payload, none extra, none twice");
        Assert.That(received.All(r => r.AgentId == 2001 && r.Key == "homer-pw" && r.Protocol == 17), Is.True, "agent id, key and UDP on every packet");
    }

    private static (IPEndPoint Source, IPEndPoint Destination, string Payload, uint AgentId, string Key, byte Protocol) Decode(byte[] packet)
    {
        var chunks = new Dictionary<ushort, byte[]>();
        for (int at = 6; at < packet.Length;)
        {
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(at + 2));
            ushort length = BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(at + 4));
            chunks[type] = packet[(at + 6)..(at + length)];
            at += length;
        }
        return (new IPEndPoint(new IPAddress(chunks[3]), BinaryPrimitives.ReadUInt16BigEndian(chunks[7])),
            new IPEndPoint(new IPAddress(chunks[4]), BinaryPrimitives.ReadUInt16BigEndian(chunks[8])),
            Convert.ToHexString(chunks[15]), BinaryPrimitives.ReadUInt32BigEndian(chunks[12]), System.Text.Encoding.UTF8.GetString(chunks[14]), chunks[2][0]);
    }
}
