using SipCallPark.Pool.State;

namespace SipCallPark.Pool.Replication;

/// <summary>
/// The park journal as the park application uses it, telling the <see cref="ReplicationSender"/> which of this
/// pool's orbits changed. As with bindings only the orbit travels; the sender reads the journal's record (or its
/// absence: a removal) when it sends. Records of other pools are not this pool's to replicate.
/// </summary>
internal sealed class ReplicatedParkJournal(IParkJournal inner, string self, ReplicationSender sender) : IParkJournal
{
    public async Task UpsertAsync(ParkedDialogRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            await inner.UpsertAsync(record, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (IsOwn(record.Pool)) sender.ParkChanged(record.Orbit);
        }
    }

    public async Task RemoveAsync(string orbit, string pool, CancellationToken cancellationToken = default)
    {
        try
        {
            await inner.RemoveAsync(orbit, pool, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (IsOwn(pool)) sender.ParkChanged(orbit);
        }
    }

    public IReadOnlyList<ParkedDialogRecord> All() => inner.All();

    public IReadOnlyList<ParkedDialogRecord> ForPool(string pool) => inner.ForPool(pool);

    private bool IsOwn(string pool) => string.Equals(pool, self, StringComparison.OrdinalIgnoreCase);
}
