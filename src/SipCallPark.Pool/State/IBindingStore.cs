using SipCallPark.Pool.Registrar;

namespace SipCallPark.Pool.State;

/// <summary>
/// Where bindings live. Reads come from memory; a write completes only once it is durable, so a 200 OK to a
/// REGISTER is never sent for a binding a crash could lose.
/// </summary>
public interface IBindingStore
{
    /// <summary>Current bindings of an address of record (expired ones excluded).</summary>
    IReadOnlyList<Binding> Get(string aor, DateTimeOffset now);

    /// <summary>Every unexpired binding, for the admin API and replication.</summary>
    IReadOnlyList<Binding> All(DateTimeOffset now);

    /// <summary>Replaces the bindings of <paramref name="aor"/> with <paramref name="bindings"/> in one step.</summary>
    Task SetAsync(string aor, IReadOnlyList<Binding> bindings, CancellationToken cancellationToken = default);

    /// <summary>Drops expired bindings; returns how many.</summary>
    Task<int> PurgeExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default);
}
