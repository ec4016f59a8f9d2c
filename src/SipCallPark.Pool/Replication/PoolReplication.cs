using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.State;
using SipCallPark.Pool.Topology;

namespace SipCallPark.Pool.Replication;

/// <summary>
/// Replication as one pool runs it (docs/design.md §7): the <see cref="ReplicaStore"/> of what its partners stream to it, the
/// <see cref="ReplicaReceiver"/> the admin API hands their requests to, and — when this pool has a backup and
/// <see cref="ReplicationOptions.Enabled"/> — the <see cref="ReplicationSender"/> that streams its own state there.
/// The host wraps its binding store and park journal with <see cref="Track(IBindingStore)"/> and
/// <see cref="Track(IParkJournal)"/>, then calls <see cref="Start"/>.
/// </summary>
internal sealed class PoolReplication : IAsyncDisposable
{
    public PoolReplication(string self, PoolTopology topology, ReplicationOptions options, StateDatabase? database, Pairing.PartnerAuthenticator signer,
        SipMetrics metrics, TimeProvider time, ILoggerFactory loggers, HttpMessageHandler? handler = null)
    {
        Self = self;
        Replicas = new ReplicaStore(database, loggers.CreateLogger<ReplicaStore>());
        Receiver = new ReplicaReceiver(self, topology, Replicas, metrics, time, loggers.CreateLogger<ReplicaReceiver>());
        var backup = topology.FindPool(self)?.Backup is { } name ? topology.FindPool(name) : null;
        if (options.Enabled && backup is not null)
        {
            Sender = new ReplicationSender(self, backup.Name, new Uri(backup.Admin), options,
                // Straight to the partner: an HTTP_PROXY meant for the outside world must not carry pool-to-pool traffic.
                handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), UseProxy = false },
                signer, metrics, time, loggers.CreateLogger<ReplicationSender>());
        }
        else
        {
            handler?.Dispose();
        }
    }

    public string Self { get; }

    public ReplicaStore Replicas { get; }

    public ReplicaReceiver Receiver { get; }

    /// <summary>Null when this pool does not replicate (no backup in the topology, or disabled).</summary>
    public ReplicationSender? Sender { get; }

    /// <summary>The binding store to give the registrar: it reports every change to the sender.</summary>
    public IBindingStore Track(IBindingStore bindings)
    {
        if (Sender is null) return bindings;
        Sender.ReadFrom(bindings);
        return new ReplicatedBindingStore(bindings, Sender);
    }

    /// <summary>The journal to give the park application: it reports changes of this pool's parks to the sender.</summary>
    public IParkJournal Track(IParkJournal journal)
    {
        if (Sender is null) return journal;
        Sender.ReadFrom(journal);
        return new ReplicatedParkJournal(journal, Self, Sender);
    }

    /// <summary>The bridge journal to give the park application: it reports changes of this pool's bridged calls to the sender.</summary>
    public IBridgeJournal Track(IBridgeJournal journal)
    {
        if (Sender is null) return journal;
        Sender.ReadFrom(journal);
        return new ReplicatedBridgeJournal(journal, Self, Sender);
    }

    /// <summary>Starts sending (a snapshot first); both stores must have been tracked.</summary>
    public void Start() => Sender?.Start();

    public async ValueTask DisposeAsync()
    {
        if (Sender is not null) await Sender.DisposeAsync().ConfigureAwait(false);
        await Replicas.DisposeAsync().ConfigureAwait(false);
    }
}
