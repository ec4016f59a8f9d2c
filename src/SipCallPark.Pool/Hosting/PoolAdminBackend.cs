using SipCallPark.Pool.Admin;

namespace SipCallPark.Pool.Hosting;

/// <summary>What the admin API shows and does for a running pool.</summary>
internal sealed class PoolAdminBackend(PoolServer server) : IAdminBackend
{
    public PoolStatusDto Status()
    {
        var now = server.Time.GetUtcNow();
        var settings = server.Settings;
        var endpoints = server.Stack.Transport.Channels.Select(c => $"{c.Protocol.ToString().ToLowerInvariant()}:{c.LocalEndPoint}").ToArray();
        var counts = new StatusCountsDto(server.Bindings.All(now).Count, 0, server.Stack.Transactions.ActiveCount, 0);
        var dr = settings.Topology.Pools
            .Select(p => new DrPhaseDto(p.Name, server.PhaseOf(p.Name).ToString(), p.Backup, null, null)).ToArray();
        return new PoolStatusDto(settings.Name, settings.Domain, endpoints, server.StartedAt, (now - server.StartedAt).TotalSeconds, counts, dr);
    }

    public IReadOnlyList<RegistrationDto> Registrations()
    {
        var now = server.Time.GetUtcNow();
        return server.Bindings.All(now).OrderBy(b => b.Aor).Select(b => RegistrationDto.From(b, now)).ToArray();
    }

    public IReadOnlyList<ParkedCallDto> Parked() => [];

    public Task<CommandResult> UnparkAsync(string orbit, CancellationToken cancellationToken) =>
        Task.FromResult(CommandResult.NotFound($"orbit {orbit} holds no call"));

    public Task<CommandResult> FailoverAsync(string pool, CancellationToken cancellationToken) =>
        Task.FromResult(CommandResult.Refused("failover is not available in this build: the DR state machine is not wired into the pool yet"));

    public Task<CommandResult> FailbackAsync(string pool, CancellationToken cancellationToken) =>
        Task.FromResult(CommandResult.Refused("failback is not available in this build: the DR state machine is not wired into the pool yet"));
}
