using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Blf;
using SipCallPark.Pool.Park;
using SipCallPark.Pool.State;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Hosting;

/// <summary>
/// The orbit lamps of one pool (docs/design.md §5 "Orbit lamps"): the state table the park application feeds, the
/// dialog event notifier with its own user agent (<c>sip:park@domain</c>, attached to nothing: the dispatcher routes),
/// and its journal in the state store when there is one.
/// </summary>
internal sealed class PoolLamps : IAsyncDisposable
{
    private readonly SqliteSubscriptionJournal? _sqlite;

    public PoolLamps(SipStack stack, PoolSettings settings, StateDatabase? database, Func<string, bool> isOrbit, Func<SipUri, bool> inResiliencyMode,
        TimeProvider time, ILoggerFactory loggers)
    {
        var park = settings.Park;
        var agent = new SipUserAgent(stack, new UserAgentOptions
        {
            Identity = new NameAddress(SipUri.Create("sip", park.ServiceName, settings.Domain), "Call Park"),
            UserAgentName = $"SipCallPark park ({settings.Name})",
        }, attach: false);
        _sqlite = database is null ? null : new SqliteSubscriptionJournal(database, loggers.CreateLogger<SqliteSubscriptionJournal>());
        var addresses = new LampAddresses(settings.Name, settings.Domain, isOrbit,
            user => string.Equals(user, park.ServiceName, StringComparison.OrdinalIgnoreCase)
                    || park.Aliases.Any(a => string.Equals(a, user, StringComparison.OrdinalIgnoreCase)),
            inResiliencyMode);
        Notifier = new DialogEventNotifier(agent, Lamps, (ISubscriptionJournal?)_sqlite ?? new InMemorySubscriptionJournal(), park.Blf, addresses,
            time, loggers.CreateLogger<DialogEventNotifier>());
    }

    /// <summary>What every orbit shows; the park application's <see cref="IOrbitObserver"/>.</summary>
    public OrbitLamps Lamps { get; } = new();

    public DialogEventNotifier Notifier { get; }

    /// <summary>The park service as the dispatcher sees it: SUBSCRIBE to the lamps, the rest to <paramref name="park"/>.</summary>
    public ITransactionUser Route(ITransactionUser park) => new LampRouting(Notifier, park);

    public async ValueTask DisposeAsync()
    {
        await Notifier.DisposeAsync().ConfigureAwait(false);
        if (_sqlite is not null) await _sqlite.DisposeAsync().ConfigureAwait(false);
    }
}
