using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// A network without sockets, for testing whole SIP flows in memory: channels attach at any address (10.0.0.1:5060
/// is fine), sends are delivered to the channel attached at the target address, always asynchronously, never on
/// the sender's stack. UDP-like channels deliver each frame on its own (losable, unordered under delay); stream-like
/// channels (TCP, TLS, WS) deliver in order over a numbered connection and never lose frames.
/// </summary>
public sealed class InMemoryNetwork
{
    private const int FirstEphemeralPort = 49152;
    private const int LastEphemeralPort = 65535;

    private readonly Lock _gate = new();
    private readonly Dictionary<SipEndPoint, InMemoryChannel> _channels = [];
    private readonly Dictionary<(IPEndPoint From, IPEndPoint To), InMemoryLinkPolicy> _policies = [];
    private readonly Dictionary<(SipEndPoint From, SipEndPoint To), InMemoryOrderedLink> _orderedLinks = [];
    private readonly Dictionary<(SipEndPoint, SipEndPoint), long> _connectionIds = [];
    private readonly Dictionary<long, (SipEndPoint A, SipEndPoint B)> _connections = [];
    private readonly ILoggerFactory _loggerFactory;
    private long _lastConnectionId;
    private int _nextEphemeralPort = FirstEphemeralPort;
    private long _droppedFrames;

    public InMemoryNetwork(TimeProvider? timeProvider = null, InMemoryLinkPolicy? defaultPolicy = null,
        ILoggerFactory? loggerFactory = null)
    {
        TimeProvider = timeProvider ?? TimeProvider.System;
        DefaultPolicy = defaultPolicy ?? new InMemoryLinkPolicy();
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
    }

    public TimeProvider TimeProvider { get; }

    /// <summary>The policy of every link without one of its own.</summary>
    public InMemoryLinkPolicy DefaultPolicy { get; }

    /// <summary>Frames lost to a link policy so far.</summary>
    public long DroppedFrames => Interlocked.Read(ref _droppedFrames);

    /// <summary>Sets how frames from <paramref name="from"/> to <paramref name="to"/> fare (one direction, any protocol).</summary>
    public void SetLinkPolicy(IPEndPoint from, IPEndPoint to, InMemoryLinkPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        ArgumentNullException.ThrowIfNull(policy);
        lock (_gate)
        {
            _policies[(from, to)] = policy;
        }
    }

    /// <summary>Attaches a channel at <paramref name="address"/>; port 0 picks a free ephemeral port.</summary>
    /// <exception cref="InvalidOperationException">Another channel of that protocol is attached there.</exception>
    public InMemoryChannel Attach(IPEndPoint address, SipProtocol protocol = SipProtocol.Udp)
    {
        ArgumentNullException.ThrowIfNull(address);
        lock (_gate)
        {
            var local = new SipEndPoint(protocol, address.Port == 0 ? FreePort(protocol, address.Address) : address);
            if (_channels.ContainsKey(local))
            {
                throw new InvalidOperationException($"A channel is already attached at {local}.");
            }

            var channel = new InMemoryChannel(this, local, _loggerFactory.CreateLogger<InMemoryChannel>());
            _channels.Add(local, channel);
            return channel;
        }
    }

    internal void Detach(InMemoryChannel channel)
    {
        lock (_gate)
        {
            if (_channels.TryGetValue(channel.Local, out InMemoryChannel? attached) && attached == channel)
            {
                _channels.Remove(channel.Local);
            }

            foreach (var (key, link) in _orderedLinks.Where(l => l.Key.From == channel.Local || l.Key.To == channel.Local).ToList())
            {
                link.Complete();
                _orderedLinks.Remove(key);
            }
        }
    }

    /// <summary>Hands a copy of the frame to the network. False when nothing is attached at the target.</summary>
    internal bool Send(InMemoryChannel from, ReadOnlyMemory<byte> data, IPEndPoint remote, long connectionId)
    {
        SipEndPoint source = from.Local;
        InMemoryLinkPolicy policy;
        SipEndPoint target;
        InMemoryOrderedLink? ordered = null;
        lock (_gate)
        {
            target = Target(source, remote.Unmapped(), connectionId);
            if (!_channels.ContainsKey(target))
            {
                return false;
            }

            policy = _policies.GetValueOrDefault((source.Address, target.Address)) ?? DefaultPolicy;
            if (source.IsReliable)
            {
                ordered = OrderedLink(source, target);
            }
        }

        byte[] copy = data.ToArray();
        if (ordered is not null)
        {
            ordered.Enqueue(copy, policy.Delay);
            return true;
        }

        if (policy.ShouldDrop())
        {
            Interlocked.Increment(ref _droppedFrames);
            return true; // like UDP: the send succeeded, the datagram was lost on the way
        }

        long sentAt = TimeProvider.GetTimestamp();
        _ = Task.Run(() => DeliverAfterAsync(source, target, copy, sentAt, policy.Delay), CancellationToken.None);
        return true;
    }

    /// <summary>The other end of connection <paramref name="connectionId"/> seen from <paramref name="local"/>, while it is attached.</summary>
    internal IPEndPoint? ConnectionPeer(SipEndPoint local, long connectionId)
    {
        lock (_gate)
        {
            if (connectionId == 0 || !_connections.TryGetValue(connectionId, out var ends))
            {
                return null;
            }

            SipEndPoint? peer = ends.A == local ? ends.B : ends.B == local ? ends.A : null;
            return peer is { } p && _channels.ContainsKey(p) ? p.Address : null;
        }
    }

    /// <summary>Delivers to whatever is attached at <paramref name="target"/> now; gone means lost.</summary>
    internal async Task DeliverNowAsync(SipEndPoint source, SipEndPoint target, byte[] data, long connectionId)
    {
        InMemoryChannel? channel;
        lock (_gate)
        {
            _channels.TryGetValue(target, out channel);
        }

        if (channel is not null)
        {
            var frame = new ReceivedFrame(source, target.Address, data, connectionId, TimeProvider.GetUtcNow());
            await channel.DeliverAsync(frame).ConfigureAwait(false);
        }
    }

    private async Task DeliverAfterAsync(SipEndPoint source, SipEndPoint target, byte[] data, long sentAt, TimeSpan delay)
    {
        // Counted from the send, not from when this task got a thread, so a test clock moved meanwhile is honoured.
        TimeSpan wait = delay - TimeProvider.GetElapsedTime(sentAt);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, TimeProvider).ConfigureAwait(false);
        }

        await DeliverNowAsync(source, target, data, 0).ConfigureAwait(false);
    }

    // A connection id names the pair of ends, so a reply on frame.ConnectionId goes back to the sender.
    private SipEndPoint Target(SipEndPoint source, IPEndPoint remote, long connectionId)
    {
        if (connectionId != 0 && _connections.TryGetValue(connectionId, out var ends))
        {
            if (ends.A == source && _channels.ContainsKey(ends.B))
            {
                return ends.B;
            }

            if (ends.B == source && _channels.ContainsKey(ends.A))
            {
                return ends.A;
            }
        }

        return new SipEndPoint(source.Protocol, remote);
    }

    private InMemoryOrderedLink OrderedLink(SipEndPoint source, SipEndPoint target)
    {
        if (_orderedLinks.TryGetValue((source, target), out InMemoryOrderedLink? link))
        {
            return link;
        }

        if (!_connectionIds.TryGetValue((source, target), out long id))
        {
            id = ++_lastConnectionId;
            _connectionIds[(source, target)] = id;
            _connectionIds[(target, source)] = id;
            _connections[id] = (source, target);
        }

        link = new InMemoryOrderedLink(this, source, target, id);
        _orderedLinks[(source, target)] = link;
        return link;
    }

    private IPEndPoint FreePort(SipProtocol protocol, IPAddress address)
    {
        for (int tried = 0; tried <= LastEphemeralPort - FirstEphemeralPort; tried++)
        {
            int port = _nextEphemeralPort;
            _nextEphemeralPort = port == LastEphemeralPort ? FirstEphemeralPort : port + 1;
            var candidate = new IPEndPoint(address, port);
            if (!_channels.ContainsKey(new SipEndPoint(protocol, candidate)))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"No free ephemeral port left on {address}.");
    }
}
