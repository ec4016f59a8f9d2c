using SipCallPark.Sip.Message;

namespace SipCallPark.ParkLoad;

/// <summary>
/// The registered phones of a run: alice the parker (she receives the park's MESSAGEs; her agent answers them 200),
/// bob on <see cref="LoadSettings.Phones"/> stacks as the parked party (no Replaces, so retrieval bridges), and
/// carol and dave on as many stacks as retrievers. Calls are spread over the stacks round-robin.
/// </summary>
public sealed class LoadLab : IAsyncDisposable
{
    private readonly List<LoadPhone> _all = [];
    private long _nextParked;
    private long _nextRetriever;
    private long _messages;

    private LoadLab(LoadSettings settings, MediaSink sink)
    {
        Settings = settings;
        Sink = sink;
        Admin = new AdminProbe(settings.Admin);
    }

    public LoadSettings Settings { get; }

    public MediaSink Sink { get; }

    public AdminProbe Admin { get; }

    public LoadPhone Parker { get; private set; } = null!;

    public IReadOnlyList<LoadPhone> ParkedPhones { get; private set; } = [];

    public IReadOnlyList<LoadPhone> Retrievers { get; private set; } = [];

    /// <summary>MESSAGEs the parker received (one per park: "Call from bob parked on orbit ...").</summary>
    public long MessagesReceived => Interlocked.Read(ref _messages);

    public SipUri ParkUri => SipUri.Parse($"sip:{Settings.ParkService}@{Settings.Domain}");

    public SipUri OrbitUri(string orbit) => SipUri.Parse($"sip:{orbit}@{Settings.Domain}");

    public LoadPhone NextParked() => ParkedPhones[(int)(Interlocked.Increment(ref _nextParked) % ParkedPhones.Count)];

    public LoadPhone NextRetriever() => Retrievers[(int)(Interlocked.Increment(ref _nextRetriever) % Retrievers.Count)];

    /// <summary>Starts and registers every phone; null (after saying why) when one could not register.</summary>
    public static async Task<LoadLab?> StartAsync(LoadSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        var lab = new LoadLab(settings, new MediaSink());
        try
        {
            lab.Parker = await lab.AddAsync("alice", supportsReplaces: true, cancellationToken);
            lab.Parker.Agent.MessageReceived += _ => Interlocked.Increment(ref lab._messages);
            var parked = new List<LoadPhone>();
            var retrievers = new List<LoadPhone>();
            for (var i = 0; i < settings.Phones; i++)
            {
                parked.Add(await lab.AddAsync("bob", supportsReplaces: false, cancellationToken));
                retrievers.Add(await lab.AddAsync(i % 2 == 0 ? "carol" : "dave", supportsReplaces: true, cancellationToken));
            }
            lab.ParkedPhones = parked;
            lab.Retrievers = retrievers;
            foreach (var phone in lab._all)
            {
                var (ok, outcome) = await phone.RegisterAsync(settings.Pool, TimeSpan.FromSeconds(5));
                if (ok) continue;
                await output.WriteLineAsync($"parkload: {phone.User} ({phone.Agent.Contact}) could not register at {settings.Pool}: {outcome}");
                await lab.DisposeAsync();
                return null;
            }
            await output.WriteLineAsync($"registered: alice (parker), {parked.Count} × bob (parked, no Replaces), " +
                                        $"{retrievers.Count} retrievers (carol/dave); media sink 127.0.0.1:{lab.Sink.Port}");
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    private async Task<LoadPhone> AddAsync(string user, bool supportsReplaces, CancellationToken cancellationToken)
    {
        var phone = await LoadPhone.StartAsync(user, Settings, Sink.Port, supportsReplaces, cancellationToken);
        _all.Add(phone);
        return phone;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var phone in _all) await phone.DisposeAsync();
        Sink.Dispose();
        Admin.Dispose();
    }
}
