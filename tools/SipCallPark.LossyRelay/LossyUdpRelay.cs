using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.LossyRelay;

/// <summary>
/// A lossy UDP hop between SIP clients (phones, sipp) and one pool, like a bad network with a NAT in it. Clients send
/// to <see cref="ListenEndPoint"/>; each client gets its own upstream socket, so the pool sees one distinct source per
/// client and reaches it (binding source, rport) through that socket. What arrives on a client's upstream socket,
/// from the pool or anyone else, goes back to that client from the listen socket. A response a client sends goes to
/// the sent-by of its top Via (the element that sent the request: the pool, or its partner after a failover), any
/// other datagram to the upstream pool. Each direction drops and delays datagrams by its own seeded
/// <see cref="LinkImpairment"/>; <see cref="Ledger"/> counts drops and retransmissions ("up" towards the pool,
/// "down" towards the clients). Clients have to send everything to the relay (sipp's <c>-rsa</c>, or a phone whose
/// channel redirects its pool's address here), since in-dialog requests would otherwise go to the pool directly.
/// </summary>
public sealed class LossyUdpRelay : IAsyncDisposable
{
    /// <summary>At most this many clients get an upstream socket; datagrams of further ones are dropped.</summary>
    public const int MaxClients = 4096;

    private readonly Socket _listen;
    private readonly ConcurrentDictionary<IPEndPoint, ClientLeg> _clients = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeProvider _time;
    private readonly List<Task> _loops = [];
    private readonly Lock _loopsGate = new();

    public LossyUdpRelay(IPEndPoint listen, IPEndPoint upstream, LinkImpairment up, LinkImpairment down, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(upstream);
        Upstream = upstream;
        Up = up ?? throw new ArgumentNullException(nameof(up));
        Down = down ?? throw new ArgumentNullException(nameof(down));
        _time = time ?? TimeProvider.System;
        _listen = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _listen.Bind(listen);
        ListenEndPoint = (IPEndPoint)_listen.LocalEndPoint!;
    }

    /// <summary>Both directions from one seed: drop with <paramref name="dropProbability"/>, delay 0..2×<paramref name="jitter"/>.</summary>
    public LossyUdpRelay(IPEndPoint listen, IPEndPoint upstream, double dropProbability, TimeSpan jitter, int seed, TimeProvider? time = null)
        : this(listen, upstream,
            LinkImpairment.ForDirection(dropProbability, jitter, seed, LinkDirection.Outbound),
            LinkImpairment.ForDirection(dropProbability, jitter, seed, LinkDirection.Inbound), time)
    {
    }

    /// <summary>Where clients send (the real port when port 0 was asked for).</summary>
    public IPEndPoint ListenEndPoint { get; }

    public IPEndPoint Upstream { get; }

    /// <summary>Fates of datagrams from the clients.</summary>
    public LinkImpairment Up { get; }

    /// <summary>Fates of datagrams to the clients.</summary>
    public LinkImpairment Down { get; }

    public LossLedger Ledger { get; } = new();

    public int Clients => _clients.Count;

    /// <summary>The address the pool sees for <paramref name="client"/>, once it has sent something.</summary>
    public IPEndPoint? UpstreamSourceOf(IPEndPoint client) => _clients.TryGetValue(client, out var leg) ? leg.LocalEndPoint : null;

    public void Start() => Track(Task.Run(() => ListenLoopAsync(_stop.Token)));

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        _listen.Dispose();
        foreach (var leg in _clients.Values) leg.Socket.Dispose();
        Task[] loops;
        lock (_loopsGate) loops = [.. _loops];
        try
        {
            await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A loop stuck in a send; its socket is closed, it ends on its own.
        }
    }

    private async Task ListenLoopAsync(CancellationToken ct)
    {
        var buffer = new byte[65536];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!ct.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _listen.ReceiveFromAsync(buffer, SocketFlags.None, any, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // ICMP port unreachable from an earlier send, reported on this socket: not fatal
            }

            var client = (IPEndPoint)received.RemoteEndPoint;
            var leg = LegOf(client, ct);
            if (leg is null) continue;
            byte[] datagram = buffer.AsSpan(0, received.ReceivedBytes).ToArray();
            var fate = Up.Next();
            Ledger.Record("up", datagram, fate.Dropped);
            if (fate.Dropped) continue;
            var target = ResponseTarget(datagram) ?? Upstream;
            Deliver(leg.Socket, datagram, target, fate.Delay, ct);
        }
    }

    private async Task ClientLoopAsync(ClientLeg leg, CancellationToken ct)
    {
        var buffer = new byte[65536];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!ct.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await leg.Socket.ReceiveFromAsync(buffer, SocketFlags.None, any, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // the pool was down when we last sent to it
            }

            byte[] datagram = buffer.AsSpan(0, received.ReceivedBytes).ToArray();
            var fate = Down.Next();
            Ledger.Record("down", datagram, fate.Dropped);
            if (fate.Dropped) continue;
            Deliver(_listen, datagram, leg.Client, fate.Delay, ct);
        }
    }

    private ClientLeg? LegOf(IPEndPoint client, CancellationToken ct)
    {
        if (_clients.TryGetValue(client, out var leg)) return leg;
        if (_clients.Count >= MaxClients) return null;
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(ListenEndPoint.Address, 0));
        var created = new ClientLeg(client, socket);
        if (!_clients.TryAdd(client, created))
        {
            socket.Dispose();
            return _clients[client];
        }

        Track(Task.Run(() => ClientLoopAsync(created, ct), CancellationToken.None));
        return created;
    }

    private void Deliver(Socket socket, byte[] datagram, IPEndPoint target, TimeSpan delay, CancellationToken ct)
    {
        if (delay <= TimeSpan.Zero)
        {
            _ = SendAsync(socket, datagram, target, ct);
            return;
        }

        _ = DelayedSendAsync(socket, datagram, target, delay, ct);
    }

    private async Task DelayedSendAsync(Socket socket, byte[] datagram, IPEndPoint target, TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, _time, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        await SendAsync(socket, datagram, target, ct).ConfigureAwait(false);
    }

    private static async Task SendAsync(Socket socket, byte[] datagram, IPEndPoint target, CancellationToken ct)
    {
        try
        {
            await socket.SendToAsync(datagram, SocketFlags.None, target, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Lost, as a datagram may be.
        }
    }

    /// <summary>For a response: the sent-by of its top Via when that is an IP address, else null.</summary>
    private static IPEndPoint? ResponseTarget(byte[] datagram)
    {
        if (!datagram.AsSpan().StartsWith("SIP/2.0 "u8)) return null;
        string text = Encoding.UTF8.GetString(datagram);
        foreach (string line in text.Split("\r\n"))
        {
            if (line.Length == 0) break;
            int colon = line.IndexOf(':');
            if (colon <= 0) continue;
            string name = line[..colon].Trim();
            if (!name.Equals("Via", StringComparison.OrdinalIgnoreCase) && name != "v") continue;
            string first = line[(colon + 1)..].Split(',')[0];
            if (!ViaHeader.TryParse(first, out var via) || !IPAddress.TryParse(via.Host, out var address)) return null;
            return new IPEndPoint(address, via.Port ?? 5060);
        }

        return null;
    }

    private void Track(Task loop)
    {
        lock (_loopsGate) _loops.Add(loop);
    }

    private sealed record ClientLeg(IPEndPoint Client, Socket Socket)
    {
        public IPEndPoint LocalEndPoint { get; } = (IPEndPoint)Socket.LocalEndPoint!;
    }
}
