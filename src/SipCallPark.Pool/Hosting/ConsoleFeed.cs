using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Park;
using SipCallPark.Pool.Admin.WebConsole;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Hosting;

/// <summary>What the web console learns from the running pool: orbit changes from the park application (with the call
/// now on the orbit) and the readings its sampler takes.</summary>
internal sealed class ConsoleFeed(PoolServer server, ConsoleEvents events, Func<int> rtpStreams) : IOrbitEvents, IConsoleReadings
{
    public void OnOrbitEvent(string orbit, OrbitEventKind kind)
    {
        if (events.SubscriberCount == 0) return;
        var call = kind is OrbitEventKind.OrbitFree or OrbitEventKind.Retrieved
            ? null
            : server.Park.Parked().FirstOrDefault(p => p.Orbit == orbit) is { } view ? PoolAdminBackend.Dto(view, server.Settings.Name) : null;
        var name = kind switch
        {
            OrbitEventKind.Parked => "parked",
            OrbitEventKind.Timeout => "timeout",
            OrbitEventKind.BackOnOrbit => "backOnOrbit",
            OrbitEventKind.Retrieved => "retrieved",
            _ => "orbitFree",
        };
        events.PublishOrbit(new OrbitEventDto(name, orbit, server.Time.GetUtcNow(), call));
    }

    public IReadOnlyList<DrPhaseDto> Phases() => PoolAdminBackend.Phases(server);

    public long RequestsReceived() => server.Metrics.RequestsTotal(SipDirection.In);

    public int ParkedCalls() => server.Park.OrbitsInUse;

    public int RtpStreams() => rtpStreams();

    public long RssBytes() => Environment.WorkingSet;
}
