using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.State;

namespace SipCallPark.Pool.Replication;

/// <summary>
/// The pool's binding store as the registrar uses it, telling the <see cref="ReplicationSender"/> which address of
/// record changed. Only the key travels: the sender reads the store's current bindings when it sends, so two
/// REGISTERs racing for one AOR cannot reach the backup in the wrong order. Expiry is not replicated (the replica
/// drops expired bindings itself).
/// </summary>
internal sealed class ReplicatedBindingStore(IBindingStore inner, ReplicationSender sender) : IBindingStore
{
    public IReadOnlyList<Binding> Get(string aor, DateTimeOffset now) => inner.Get(aor, now);

    public IReadOnlyList<Binding> All(DateTimeOffset now) => inner.All(now);

    public async Task SetAsync(string aor, IReadOnlyList<Binding> bindings, CancellationToken cancellationToken = default)
    {
        try
        {
            await inner.SetAsync(aor, bindings, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Even when the durable write failed: the store serves the new bindings from memory, and that is what the
            // backup should hold. Whether they are the pool's own is decided when the batch is read.
            sender.BindingsChanged(aor);
        }
    }

    public Task<int> PurgeExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default) =>
        inner.PurgeExpiredAsync(now, cancellationToken);
}
