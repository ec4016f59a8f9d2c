using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.State;
using SipCallPark.Pool.Admin.WebConsole;

namespace SipCallPark.Pool.Hosting;

/// <summary>The pool's binding store, telling the web console each address of record's bindings after a REGISTER
/// changed them (SSE event <c>registration</c>). Reads pass straight through.</summary>
internal sealed class ConsoleBindingFeed(IBindingStore inner, ConsoleEvents events, BindingTargets targets, TimeProvider time) : IBindingStore
{
    public IReadOnlyList<Binding> Get(string aor, DateTimeOffset now) => inner.Get(aor, now);

    public IReadOnlyList<Binding> All(DateTimeOffset now) => inner.All(now);

    public async Task SetAsync(string aor, IReadOnlyList<Binding> bindings, CancellationToken cancellationToken = default)
    {
        await inner.SetAsync(aor, bindings, cancellationToken).ConfigureAwait(false);
        if (events.SubscriberCount == 0) return;
        var now = time.GetUtcNow();
        var current = inner.Get(aor, now).Select(b => RegistrationDto.From(b, targets.Choose(b), now)).ToArray();
        events.PublishRegistration(new RegistrationEventDto(aor, now, current));
    }

    public Task<int> PurgeExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default) =>
        inner.PurgeExpiredAsync(now, cancellationToken);
}
