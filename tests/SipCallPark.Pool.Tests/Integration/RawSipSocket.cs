using System.Net;
using System.Net.Sockets;
using System.Text;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>
/// A bare UDP socket on loopback that writes SIP by hand, as an attacker does: no transaction layer, no credentials
/// unless the test writes them. Also serves as the "elsewhere" a relayed request would reach.
/// </summary>
internal sealed class RawSipSocket : IDisposable
{
    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));

    public int Port => ((IPEndPoint)_udp.Client.LocalEndPoint!).Port;

    public Task SendAsync(string text, IPEndPoint to) => _udp.SendAsync(Encoding.UTF8.GetBytes(text), to).AsTask();

    /// <summary>The first final response to arrive within <paramref name="bound"/> (provisionals skipped), or null.</summary>
    public async Task<SipResponse?> FinalAsync(TimeSpan bound)
    {
        using var timeout = new CancellationTokenSource(bound);
        try
        {
            while (true)
            {
                var datagram = await _udp.ReceiveAsync(timeout.Token);
                if (SipParser.Parse(datagram.Buffer).Message is SipResponse { IsFinal: true } final) return final;
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>The first request to arrive within <paramref name="bound"/>, or null: what a relay would have delivered.</summary>
    public async Task<SipRequest?> RequestAsync(TimeSpan bound)
    {
        using var timeout = new CancellationTokenSource(bound);
        try
        {
            while (true)
            {
                var datagram = await _udp.ReceiveAsync(timeout.Token);
                if (SipParser.Parse(datagram.Buffer).Message is SipRequest request) return request;
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>A request written by hand; <paramref name="extra"/> lines end with CRLF.</summary>
    public string Request(string method, string requestUri, string callId, string? toTag, string extra, string from = "<sip:nobody@attacker.example>") =>
        $"{method} {requestUri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{Port};branch=z9hG4bK{Guid.NewGuid():N};rport\r\nMax-Forwards: 70\r\n" +
        $"From: {from};tag=attacker1\r\nTo: <{requestUri}>{(toTag is null ? "" : $";tag={toTag}")}\r\nCall-ID: {callId}\r\nCSeq: 1 {method}\r\n" +
        $"Contact: <sip:nobody@127.0.0.1:{Port}>\r\n{extra}Content-Length: 0\r\n\r\n";

    public void Dispose() => _udp.Dispose();
}
