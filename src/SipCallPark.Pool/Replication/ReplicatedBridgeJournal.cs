using SipCallPark.Pool.State;

namespace SipCallPark.Pool.Replication;

/// <summary>
/// The bridge journal as the park application uses it, telling the <see cref="ReplicationSender"/> which of this pool's
/// bridged calls changed; the sender reads the record (or its absence: the bridge ended) when it sends.
/// </summary>
internal sealed class ReplicatedBridgeJournal(IBridgeJournal inner, string self, ReplicationSender sender) : IBridgeJournal
{
    public async Task UpsertAsync(BridgedCallRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            await inner.UpsertAsync(record, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (IsOwn(record.Pool)) sender.BridgeChanged(record.Id);
        }
    }

    public async Task RemoveAsync(string id, string pool, CancellationToken cancellationToken = default)
    {
        try
        {
            await inner.RemoveAsync(id, pool, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (IsOwn(pool)) sender.BridgeChanged(id);
        }
    }

    public IReadOnlyList<BridgedCallRecord> ForPool(string pool) => inner.ForPool(pool);

    private bool IsOwn(string pool) => string.Equals(pool, self, StringComparison.OrdinalIgnoreCase);
}
