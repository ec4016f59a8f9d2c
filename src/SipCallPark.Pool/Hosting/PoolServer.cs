using System.Net;
using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Auth;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Park;
using SipCallPark.Pool.Proxy;
using SipCallPark.Pool.Replication;
using SipCallPark.Pool.Resiliency;
using SipCallPark.Pool.State;
using SipCallPark.Pool.Topology;
using SipCallPark.Pool.Tracing;
using SipCallPark.Sip.Rtp;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.Tracing;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Hosting;

/// <summary>
/// One running pool: state store, SIP stack, registrar, proxy and admin API, started in that order and stopped in
/// reverse. A port that cannot be bound stops the start with the endpoint named.
/// </summary>
public sealed class PoolServer : IAsyncDisposable
{
    private readonly List<IDisposable> _disposables = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger;
    private AdminServer? _admin;
    private StateDatabase? _database;
    private SqliteBindingStore? _sqliteBindings;
    private SqliteParkJournal? _sqliteJournal;
    private SqliteBridgeJournal? _sqliteBridges;
    private PcapTraceWriter? _pcap;
    private HepTraceExporter? _hep;
    private HepRtpCounters? _hepRtp;
    private PoolReplication? _replication;
    private PoolLamps? _lamps;
    private readonly List<PartnerWatch> _partners = [];
    private ConsoleFeed? _console;
    private HoldMedia? _media;

    private PoolServer(PoolSettings settings, SipStack stack, IBindingStore bindings, SipMetrics metrics, PoolDispatcher dispatcher,
        StatefulProxy proxy, TimeProvider time, ILoggerFactory loggers)
    {
        Settings = settings;
        Stack = stack;
        Bindings = bindings;
        Metrics = metrics;
        Dispatcher = dispatcher;
        Proxy = proxy;
        Time = time;
        StartedAt = time.GetUtcNow();
        _logger = loggers.CreateLogger<PoolServer>();
    }

    public PoolSettings Settings { get; }

    public SipStack Stack { get; }

    public IBindingStore Bindings { get; }

    public SipMetrics Metrics { get; }

    public PoolDispatcher Dispatcher { get; }

    public StatefulProxy Proxy { get; }

    internal ProxyRouter Router { get; private init; } = null!;

    /// <summary>The calls proxied here lately, which a park REFER's Replaces may name.</summary>
    internal ProxiedDialogs Dialogs { get; private init; } = null!;
    /// <summary>Where each binding is reached (Pool:Registrar:NatTraversal), as the proxy and the park app send.</summary>
    internal Registrar.BindingTargets Targets { get; private init; } = null!;
    /// <summary>Signs what this pool sends its partner and checks what claims to come from it (docs/design.md §11).</summary>
    internal Pairing.PartnerAuthenticator Partner { get; private init; } = null!;

    /// <summary>The live SIP trace the admin API's <c>GET /trace</c> subscribes to.</summary>
    internal LiveTrace Trace { get; private init; } = null!;

    private ParkRoutes Routes { get; set; } = null!;

    /// <summary>
    /// The backup's duties when a partner's phase changes (docs/design.md §5 case 1, §7): on Outage, every parked, not yet
    /// retrieved party of the partner (known by replication) gets BYE and its parker a MESSAGE.
    /// </summary>
    private void OnPartnerPhaseChanged(DrTransition transition)
    {
        if (transition is not { From: DrPhase.Normal, To: DrPhase.Outage }) return;
        var replicas = Replicas;
        var parks = replicas.ParksOf(transition.Pool);
        var started = Time.GetTimestamp();
        _ = Task.Run(async () =>
        {
            try
            {
                var count = await Park.TearDownPartnerParksAsync(transition.Pool, parks, r => replicas.RemoveParkAsync(r.Pool, r.Orbit, _stopping.Token)).ConfigureAwait(false);
                if (count > 0)
                    _logger.LogWarning("Orphaned parks of {PartnerPool} torn down: {Count} BYEs in {Elapsed:0} ms after the outage was declared",
                        transition.Pool, count, Time.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogError(e, "Tearing down the parks of {PartnerPool} failed", transition.Pool);
            }
        });
    }

    public TimeProvider Time { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>The SIP address actually bound (port 0 resolved).</summary>
    public IPEndPoint SipEndPoint => Stack.Transport.Channels[0].LocalEndPoint;

    public Uri? AdminUrl => _admin?.Url;

    /// <summary>The call park application answering at the park URI and this pool's orbits.</summary>
    internal ParkApplication Park { get; private set; } = null!;

    /// <summary>Completes once the bridges left by a previous run were probed; the number ended (<see cref="StrandedBridges.ProbeOwnAsync"/>).</summary>
    public Task<int> StrandedProbed { get; private set; } = Task.FromResult(0);

    /// <summary>The bridged calls this pool holds, both legs each (docs/design.md §7 "Bridged calls").</summary>
    internal IBridgeJournal BridgeJournal { get; private set; } = null!;

    /// <summary>Bridged calls whose bridging process died, whose BYE this pool passes on.</summary>
    internal StrandedBridges Stranded { get; private set; } = null!;

    /// <summary>The orbit lamps (SUBSCRIBE to an orbit with Event: dialog, docs/design.md §5).</summary>
    internal Blf.DialogEventNotifier Lamps => _lamps!.Notifier;

    /// <summary>This pool's replication: the sender to its backup and what it receives from the pools it backs up.</summary>
    internal PoolReplication Replication => _replication!;

    /// <summary>The bindings and park dialogs of the pools this one backs up, as they last replicated them (docs/design.md §7).</summary>
    internal IReplicaStore Replicas => Replication.Replicas;

    /// <summary>Completes when the park dialogs left by a previous run have been torn down (see <see cref="ParkApplication.TearDownLeftoversAsync"/>).</summary>
    public Task<int> LeftoversTornDown { get; private set; } = Task.FromResult(0);

    /// <summary>
    /// The DR phase of <paramref name="pool"/> as this pool knows it: a partner's from this pool's own watch of it; this
    /// pool's own as its backup reports it (in the partner's OPTIONS answers); Normal for a pool nobody here tracks.
    /// </summary>
    public DrPhase PhaseOf(string pool)
    {
        if (_partners.FirstOrDefault(p => string.Equals(p.Pool, pool, StringComparison.OrdinalIgnoreCase)) is { } watch) return watch.Machine.Phase;
        if (string.Equals(pool, Settings.Name, StringComparison.OrdinalIgnoreCase))
        {
            var backup = Settings.Topology.FindPool(pool)?.Backup;
            return _partners.FirstOrDefault(p => string.Equals(p.Pool, backup, StringComparison.OrdinalIgnoreCase))?.OwnPhase ?? DrPhase.Normal;
        }
        return DrPhase.Normal;
    }

    /// <summary>The phases this pool drives (those of the pools it backs up), for <c>X-DR-Phase</c> in its OPTIONS answers.</summary>
    internal IEnumerable<(string Pool, DrPhase Phase)> DrivenPhases() => _partners.Select(p => (p.Pool, p.Machine.Phase));

    /// <summary>The partner's health as this pool's monitor sees it; null for pools it does not watch.</summary>
    public bool? HealthOf(string pool) => _partners.FirstOrDefault(p => string.Equals(p.Pool, pool, StringComparison.OrdinalIgnoreCase))?.Monitor.IsHealthy;

    /// <summary>The DR machine this pool keeps for <paramref name="pool"/>, or null when it does not watch that pool.</summary>
    public DrStateMachine? DrMachineOf(string pool) => _partners.FirstOrDefault(p => string.Equals(p.Pool, pool, StringComparison.OrdinalIgnoreCase))?.Machine;

    public static async Task<PoolServer> StartAsync(PoolSettings settings, ILoggerFactory loggers, TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        time ??= TimeProvider.System;
        settings.Partner.Validate(Pairing.PartnerOptions.Section, settings.Topology);
        var partnerAuth = new Pairing.PartnerAuthenticator(settings.Name, settings.Topology, settings.Partner, time,
            loggers.CreateLogger<Pairing.PartnerAuthenticator>());
        if (!partnerAuth.HasSecret && settings.Topology.Pools.Count > 1)
            loggers.CreateLogger<PoolServer>().LogWarning(
                "{Key} is not set: no request is taken for the partner pool's (calls between the pools are challenged, its DR phases are not believed, its replication is refused)",
                Pairing.PartnerOptions.Section + ":Secret");
        StateDatabase? database = null;
        IBindingStore bindings;
        if (settings.DatabasePath is { } path)
        {
            database = new StateDatabase(path);
            bindings = new SqliteBindingStore(database, loggers.CreateLogger<SqliteBindingStore>());
        }
        else
        {
            bindings = new InMemoryBindingStore();
        }

        var channels = PoolChannels.Bind(settings, loggers, time);
        var stack = await SipStack.StartAsync(channels, settings.Transactions, time, loggers, cancellationToken: cancellationToken).ConfigureAwait(false);

        var metrics = new SipMetrics();
        stack.Transport.MessageTraced += metrics.Observe;
        var trace = new LiveTrace(time, settings.TraceCapacity, metrics);
        stack.Transport.MessageTraced += trace.Observe;
        PcapTraceWriter? pcap = null;
        if (settings.PcapPath is { } pcapPath)
        {
            pcap = new PcapTraceWriter(new PcapOptions { Path = pcapPath }, time, loggers.CreateLogger<PcapTraceWriter>());
            stack.Transport.MessageTraced += pcap.Observe;
        }
        HepTraceExporter? hep = settings.Hep is { } hepOptions ? new HepTraceExporter(hepOptions, time, loggers.CreateLogger<HepTraceExporter>()) : null;
        if (hep is not null) stack.Transport.MessageTraced += hep.Observe;
        var self = new PoolIdentity(settings.Name, channels.Select(c => c.LocalEndPoint).Distinct().ToArray());
        var users = new UserDirectory(settings.Users);
        var auth = new DigestAuthenticator(settings.Digest ?? new DigestOptions { Realm = settings.Domain }, users, time, isOwnAddress: self.IsMe);

        var ownBindings = bindings;
        var replication = StartReplication(settings, database, partnerAuth, metrics, time, loggers);
        bindings = replication.Track(bindings);
        var console = settings.Admin is null ? null : new Admin.WebConsole.ConsoleEvents(time, settings.Topology.FindPool(settings.Name)?.Orbits ?? [], metrics: metrics);
        if (console is not null) bindings = new ConsoleBindingFeed(bindings, console, new Registrar.BindingTargets(settings.Registrar.NatTraversal), time);

        PoolServer? server = null;
        DrPhase Phase(string pool) => server?.PhaseOf(pool) ?? DrPhase.Normal;
        var registrar = new Registrar.Registrar(settings.Registrar, bindings, auth, users, stack.Ids,
            new PairedPoolPolicy(settings.Name, settings.Topology, Phase), settings.Domain, settings.Name, time,
            loggers.CreateLogger<Registrar.Registrar>(), self.IsMe);
        var partnerCertificates = settings.PartnerTls is { } trust && channels.OfType<IPeerCertificates>().FirstOrDefault() is { } tlsChannel
            ? new Pairing.PartnerCertificateCheck(settings.Name, settings.Topology, trust.Pinned, trust.Authority, tlsChannel, time,
                loggers.CreateLogger<Pairing.PartnerCertificateCheck>())
            : null;
        var partnerRouting = new PartnerRouting(settings.Name, settings.Topology, Phase, partnerAuth, partnerCertificates);
        var targets = new Registrar.BindingTargets(settings.Registrar.NatTraversal);
        // docs/design.md §11: the key of our Record-Route tokens outlives a restart, so calls set up before it go on.
        var tokens = settings.DatabasePath is { } dataPath
            ? RecordRouteToken.LoadOrCreate(Path.ChangeExtension(Path.GetFullPath(dataPath), ".route-key"))
            : RecordRouteToken.Random();
        var router = new ProxyRouter(self, settings.Topology, bindings, auth,
            new ParkAddressBook(settings.Name, settings.Park, pool => Phase(pool) != DrPhase.Normal), partnerRouting, tokens, targets,
            settings.Registrar.MaxContactsPerAor, time);
        var proxy = new StatefulProxy(stack, self, tokens, loggers.CreateLogger<StatefulProxy>(), signer: partnerAuth);
        var dialogs = new ProxiedDialogs(time);
        proxy.InviteSucceeded += dialogs.Add;
        var dispatcher = new PoolDispatcher(stack, router, proxy, registrar, auth, self, loggers.CreateLogger<PoolDispatcher>())
        {
            RateLimiter = settings.RateLimit.Enabled
                ? new RateLimiting.SourceRateLimiter(settings.RateLimit, time, loggers.CreateLogger<RateLimiting.SourceRateLimiter>())
                : null,
            Overload = settings.Overload.Enabled
                ? new RateLimiting.OverloadGuard(settings.Overload, time, loggers.CreateLogger<RateLimiting.OverloadGuard>())
                : null,
            Partner = partnerAuth,
            PartnerTest = partnerRouting,
            ServerHeader = settings.ServerHeader,
            Dialogs = dialogs,
            ParkTransferRefusal = new InDialogReferRefusal(stack, self, dialogs, loggers.CreateLogger<InDialogReferRefusal>()),
        };
        stack.User = dispatcher;

        server = new PoolServer(settings, stack, bindings, metrics, dispatcher, proxy, time, loggers)
        {
            Router = router,
            Dialogs = dialogs,
            Targets = targets,
            Trace = trace,
            _database = database,
            _pcap = pcap,
            _hep = hep,
            _sqliteBindings = ownBindings as SqliteBindingStore,
            _replication = replication,
            Partner = partnerAuth,
        };
        if (console is not null) server._console = new ConsoleFeed(server, console, () => server._media?.ActiveStreams ?? 0);
        server._sqliteJournal = server.StartPark(database, loggers);
        replication.Start();
        server.RegisterGauges(stack, bindings, proxy, dispatcher.Overload);
        if (hep is not null) server._disposables.AddRange(HepTraceMetrics.Register(metrics, hep));
        // Watch the pools this one backs up (Lync pairs pools both ways, so usually the one partner).
        foreach (var partner in settings.Topology.Pools.Where(p => string.Equals(p.Backup, settings.Name, StringComparison.OrdinalIgnoreCase)
                                                                   && !string.Equals(p.Name, settings.Name, StringComparison.OrdinalIgnoreCase)))
        {
            var watch = new PartnerWatch(stack, settings.Name, settings.Domain, partner, settings.Dr, settings.Health, metrics,
                new DrPhaseStore(database), partnerAuth, (Resiliency.IPoolLoad?)dispatcher.Overload ?? new UnmeasuredLoad(), time, loggers);
            watch.Machine.Changed += server.OnPartnerPhaseChanged;
            server._partners.Add(watch);
        }
        dispatcher.DrivenPhases = server.DrivenPhases;
        if (console is not null)
        {
            var sampler = new Admin.WebConsole.ConsoleSampler(console, server._console!, time);
            server._disposables.Add(sampler);
            foreach (var watch in server._partners)
                watch.Machine.Changed += t => sampler.OnTransition(t.Pool, t.From.ToString(), t.To.ToString(), t.Reason, t.At);
        }
        server.StartHousekeeping();
        if (settings.Admin is { } adminOptions)
        {
            try
            {
                server._admin = await AdminServer.StartAsync(adminOptions, new PoolAdminBackend(server), metrics,
                    loggers.CreateLogger<AdminServer>(), cancellationToken, time, console).ConfigureAwait(false);
            }
            catch
            {
                await server.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        server._logger.LogInformation("Pool {Pool} serving {Domain} on {Endpoints}; admin {Admin}", settings.Name, settings.Domain,
            string.Join(", ", channels.Select(c => $"{c.Protocol.ToString().ToLowerInvariant()}:{c.LocalEndPoint}")), server._admin?.Url.ToString() ?? "off");
        return server;
    }

    /// <summary>
    /// Signs what the park service sends a partner pool for a user homed there (ParkRoutes sends such a request to that
    /// pool's address with the user's address of record as Request-URI), so the partner does not challenge it; a request
    /// to any other address, or to the partner's address under another Request-URI, goes unsigned (docs/design.md §11).
    /// </summary>
    private void SignForPartner(Sip.Message.SipRequest request, SipEndPoint destination)
    {
        var toPartner = string.Equals(request.RequestUri.Host, Settings.Domain, StringComparison.OrdinalIgnoreCase)
                        && Settings.Topology.Pools.Any(p => !string.Equals(p.Name, Settings.Name, StringComparison.OrdinalIgnoreCase)
                                                            && IPEndPoint.TryParse(p.Sip, out var address) && address.Equals(destination.Address));
        Partner.PrepareForward(request, toPartner);
    }

    /// <summary>The park application on this pool's stack: its orbits, journal (in the state store) and music.</summary>
    private SqliteParkJournal? StartPark(StateDatabase? database, ILoggerFactory loggers)
    {
        var options = Settings.Park;
        var self = Settings.Topology.FindPool(Settings.Name);
        var ranges = (self?.Orbits ?? []).Select(text => OrbitRange.TryParse(text, out var range, out _) ? range : null).OfType<OrbitRange>().ToArray();
        var orbits = new OrbitAllocator(ranges, options.OrbitAssignment, Random.Shared);
        SqliteParkJournal? sqlite = database is null ? null : new SqliteParkJournal(database, loggers.CreateLogger<SqliteParkJournal>());
        IParkJournal journal = _replication!.Track(sqlite ?? new InMemoryParkJournal());
        _sqliteBridges = database is null ? null : new SqliteBridgeJournal(database, loggers.CreateLogger<SqliteBridgeJournal>());
        IBridgeJournal bridges = _replication.Track(_sqliteBridges ?? new InMemoryBridgeJournal());
        BridgeJournal = bridges;
        var address = SipEndPoint.Address;
        if (address.Equals(IPAddress.Any)) address = IPAddress.Loopback;
        else if (address.Equals(IPAddress.IPv6Any)) address = IPAddress.IPv6Loopback;
        MusicOnHoldStreamer? streamer = options.EnableMusicOnHold
            ? new MusicOnHoldStreamer(MusicSource.FromFileOrGenerated(options.MusicFile), RtpPortRange.Parse(options.MediaPorts), address, Time,
                Random.Shared, loggers.CreateLogger<MusicOnHoldStreamer>())
            : null;
        if (streamer is not null && _pcap is not null && Settings.PcapIncludeRtp) streamer.PacketSent = _pcap.ObserveMedia;
        if (streamer is not null && _hep is not null && Settings.Hep is { RtpCounters: true } hep)
        {
            // Counters only, never the packets (docs/design.md §8); the Call-ID comes from the SDP that offered the port.
            _hepRtp = new HepRtpCounters(_hep, hep.RtpCounterInterval, Time);
            Stack.Transport.MessageTraced += _hepRtp.ObserveSip;
            streamer.PacketSent += _hepRtp.ObservePacket;
        }
        var media = _media = new HoldMedia(streamer, address, Random.Shared)
        {
            Prompts = streamer is null ? null
                : OrbitPrompts.Load(options.PromptDirectory ?? OrbitPrompts.DefaultDirectory, loggers.CreateLogger<OrbitPrompts>()),
        };
        Routes = new ParkRoutes(Settings.Topology, Settings.Name, Bindings, Targets, Time)
        {
            ServesOwnUsers = pool => string.Equals(pool, Settings.Name, StringComparison.OrdinalIgnoreCase) || PhaseOf(pool) == DrPhase.Normal,
        };
        _lamps = new PoolLamps(Stack, Settings, database, orbits.Owns, Router.InResiliencyMode, Time, loggers);
        Park = new ParkApplication(Stack, Settings.Name, Settings.Domain, options, orbits, journal, bridges,
            Routes, media, Metrics, Time, loggers, SignForPartner)
        {
            ReferPolicy = new ParkReferPolicy(Settings.Topology, Bindings, Dialogs, Time),
            OrbitEvents = _console,
            OrbitObserver = _lamps.Lamps,
            Transfers = new ParkTransfers(Settings.Topology, Settings.Name, options, Dialogs, Time),
        };
        Park.ParkerInResiliencyMode = Router.InResiliencyMode;
        Router.Replicas = Replicas;
        Routes.Replicas = Replicas;
        Router.ParkTransferSeen = Park.CheckTransfer;
        if (Dispatcher.ParkTransferRefusal is { } refusal) refusal.TellTransferor = Park.TellParkRefusedAsync;
        // Bridged calls of a dead process (this pool's before a restart, a failed partner's) get their BYE passed on
        // ahead of the park application, which holds no dialog for them (docs/design.md §7 "Bridged calls").
        var partners = Settings.Topology.Pools.Where(p => string.Equals(p.Backup, Settings.Name, StringComparison.OrdinalIgnoreCase)
                                                          && !string.Equals(p.Name, Settings.Name, StringComparison.OrdinalIgnoreCase))
            .Select(p => p.Name).ToArray();
        Stranded = new StrandedBridges(Park, Stack, Settings.Name, Settings.Domain, bridges, Replicas, partners, pool => PhaseOf(pool) != DrPhase.Normal,
            Metrics, loggers.CreateLogger<StrandedBridges>());
        // Lamp subscriptions first, then BYEs of stranded bridges, then the park application.
        Dispatcher.ParkService = _lamps.Route(Stranded);
        _lamps.Notifier.Restore();
        StrandedProbed = Task.Run(async () =>
        {
            try
            {
                return await Stranded.ProbeOwnAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogError(e, "Probing the bridged calls of the previous run failed");
                return 0;
            }
        });
        LeftoversTornDown = Task.Run(async () =>
        {
            try
            {
                return await Park.TearDownLeftoversAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogError(e, "Tearing down the park dialogs of the previous run failed");
                return 0;
            }
        });
        _disposables.Add(Metrics.RegisterGauge("park_orbits_in_use", "Orbits holding a parked call", () => orbits.InUse));
        _disposables.Add(Metrics.RegisterGauge("park_bridges_active", "Retrieved calls the park app bridges", () => Park.ActiveBridges));
        _disposables.Add(Metrics.RegisterGauge("park_moh_streams", "Music-on-hold streams playing", () => media.ActiveStreams));
        return sqlite;
    }

    /// <summary>
    /// Replication (docs/design.md §7): the store of what the pools this one backs up send it, and the sender of this pool's own
    /// bindings and parks to its backup. The caller passes its binding store and park journal through
    /// <see cref="PoolReplication.Track(IBindingStore)"/> / <see cref="PoolReplication.Track(IParkJournal)"/>, then
    /// calls <see cref="PoolReplication.Start"/> once both exist.
    /// </summary>
    private static PoolReplication StartReplication(PoolSettings settings, StateDatabase? database, Pairing.PartnerAuthenticator signer,
        SipMetrics metrics, TimeProvider time, ILoggerFactory loggers) =>
        new(settings.Name, settings.Topology, settings.Replication, database, signer, metrics, time, loggers);

    private void RegisterGauges(SipStack stack, IBindingStore bindings, StatefulProxy proxy, RateLimiting.OverloadGuard? overload)
    {
        if (overload is not null)
        {
            _disposables.Add(Metrics.RegisterGauge("requests_in_flight", "Requests being handled by the pool now", () => overload.InFlight));
            _disposables.Add(Metrics.RegisterGauge("requests_shed", "New requests answered 503 because the pool was overloaded, since start",
                () => overload.Refused));
        }
        if (_pcap is { } pcap)
        {
            // A trace missing a message says so here and in the log line the writer leaves when it closes.
            _disposables.Add(Metrics.RegisterGauge("pcap_messages_written", "SIP messages written to the --pcap trace", () => pcap.Written));
            _disposables.Add(Metrics.RegisterGauge("pcap_messages_dropped",
                "SIP messages missing from the --pcap trace (queue full, file not writable), since start", () => pcap.Dropped));
            _disposables.Add(Metrics.RegisterGauge("pcap_media_dropped", "Music-on-hold packets not written to the --pcap trace", () => pcap.MediaDropped));
        }
        _disposables.Add(Metrics.RegisterGauge("registrations", "Unexpired bindings held by this pool", () => bindings.All(Time.GetUtcNow()).Count));
        _disposables.Add(Metrics.RegisterGauge("transactions_active", "SIP transactions not yet terminated", () => stack.Transactions.ActiveCount));
        _disposables.Add(Metrics.RegisterGauge("proxy_contexts_active", "Requests being proxied", () => proxy.ActiveContexts));
        // The process itself, so a load or soak run reads CPU, memory and garbage per operation from one scrape.
        _disposables.Add(Metrics.RegisterGauge("process_cpu_seconds", "CPU time used by the process so far (user + system)",
            () => Environment.CpuUsage.TotalTime.TotalSeconds));
        _disposables.Add(Metrics.RegisterGauge("process_working_set_bytes", "Physical memory of the process", () => Environment.WorkingSet));
        _disposables.Add(Metrics.RegisterGauge("gc_allocated_bytes", "Bytes allocated on the managed heap since start",
            () => GC.GetTotalAllocatedBytes()));
        _disposables.Add(Metrics.RegisterGauge("gc_heap_bytes", "Managed heap size after the last collection", () => GC.GetGCMemoryInfo().HeapSizeBytes));
        _disposables.Add(Metrics.RegisterGauge("gc_committed_bytes", "Memory the garbage collector holds from the system (live, free and fragmented)",
            () => GC.GetGCMemoryInfo().TotalCommittedBytes));
        for (var generation = 0; generation <= 2; generation++)
        {
            var g = generation;
            _disposables.Add(Metrics.RegisterGauge($"gc_gen{g}_collections", $"Garbage collections of generation {g} since start",
                () => GC.CollectionCount(g)));
        }
    }

    /// <summary>Drops expired bindings from the store once a minute.</summary>
    private void StartHousekeeping()
    {
        var token = _stopping.Token;
        _ = Task.Run(async () =>
        {
            while (!token.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromMinutes(1), Time, token).ConfigureAwait(false);
                    var purged = await Bindings.PurgeExpiredAsync(Time.GetUtcNow(), token).ConfigureAwait(false);
                    if (purged > 0) _logger.LogInformation("Expired {Count} bindings", purged);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception e)
                {
                    _logger.LogError(e, "Binding housekeeping failed");
                }
            }
        });
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_admin is not null) await _admin.DisposeAsync().ConfigureAwait(false);
        foreach (var partner in _partners) await partner.DisposeAsync().ConfigureAwait(false);
        if (_replication is not null) await _replication.DisposeAsync().ConfigureAwait(false);
        foreach (var d in _disposables) d.Dispose();
        if (_lamps is not null) await _lamps.DisposeAsync().ConfigureAwait(false);
        await Park.DisposeAsync().ConfigureAwait(false);
        await Stack.DisposeAsync().ConfigureAwait(false);
        if (_sqliteJournal is not null) await _sqliteJournal.DisposeAsync().ConfigureAwait(false);
        if (_sqliteBridges is not null) await _sqliteBridges.DisposeAsync().ConfigureAwait(false);
        if (_pcap is not null) await _pcap.DisposeAsync().ConfigureAwait(false);
        if (_hepRtp is not null) await _hepRtp.DisposeAsync().ConfigureAwait(false); // last reports, before the exporter stops
        if (_hep is not null) await _hep.DisposeAsync().ConfigureAwait(false);
        if (_sqliteBindings is not null) await _sqliteBindings.DisposeAsync().ConfigureAwait(false);
        _database?.Dispose();
        _stopping.Dispose();
    }
}
