using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Replication;
using SipCallPark.Pool.Tracing;

namespace SipCallPark.Pool.Hosting;

/// <summary>What the admin API shows and does for a running pool.</summary>
internal sealed class PoolAdminBackend(PoolServer server) : IAdminBackend
{
    public PoolStatusDto Status()
    {
        var now = server.Time.GetUtcNow();
        var settings = server.Settings;
        var endpoints = server.Stack.Transport.Channels.Select(c => $"{c.Protocol.ToString().ToLowerInvariant()}:{c.LocalEndPoint}").ToArray();
        var counts = new StatusCountsDto(server.Bindings.All(now).Count, 0, server.Stack.Transactions.ActiveCount, server.Park.OrbitsInUse);
        var dr = Phases(server);
        return new PoolStatusDto(settings.Name, settings.Domain, endpoints, server.StartedAt, (now - server.StartedAt).TotalSeconds, counts, dr)
        {
            TlsCertificateSha256 = settings.Tls?.Certificate is { } certificate
                ? string.Join(':', certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)))
                : null,
        };
    }

    public IReadOnlyList<RegistrationDto> Registrations()
    {
        var now = server.Time.GetUtcNow();
        return server.Bindings.All(now).OrderBy(b => b.Aor).Select(b => RegistrationDto.From(b, server.Targets.Choose(b), now)).ToArray();
    }

    public IReadOnlyList<ParkedCallDto> Parked() => server.Park.Parked().Select(p => Dto(p, server.Settings.Name)).ToArray();

    internal static ParkedCallDto Dto(Park.ParkedCallView p, string pool) =>
        new(p.Orbit, p.ParkedParty, p.Parker, p.Since, p.TimeoutDue, p.Attempts, pool) { State = p.State };

    /// <summary>Every pool's DR phase as this pool sees it.</summary>
    internal static DrPhaseDto[] Phases(PoolServer server) =>
        server.Settings.Topology.Pools
            .Select(p => new DrPhaseDto(p.Name, server.PhaseOf(p.Name).ToString(), p.Backup, server.HealthOf(p.Name), server.DrMachineOf(p.Name)?.Since)).ToArray();

    public async Task<CommandResult> UnparkAsync(string orbit, CancellationToken cancellationToken) =>
        await server.Park.UnparkAsync(orbit).ConfigureAwait(false)
            ? CommandResult.Done($"orbit {orbit} unparked: the parked party got BYE and its parker a MESSAGE")
            : CommandResult.NotFound($"orbit {orbit} holds no call");

    public Task<CommandResult> FailoverAsync(string pool, CancellationToken cancellationToken) =>
        Task.FromResult(Run(pool, m => m.Failover()));

    public Task<CommandResult> FailbackAsync(string pool, CancellationToken cancellationToken) =>
        Task.FromResult(Run(pool, m => m.Failback()));

    public PartnerCredentials AuthenticatePartner(string pool, string method, string path, string? signature, ReadOnlySpan<byte> body)
    {
        if (signature is null) return PartnerCredentials.Missing;
        var verdict = server.Partner.VerifyHttp(signature, method, path, body, out var signer);
        return verdict == Pairing.PartnerVerdict.Valid && string.Equals(signer, pool, StringComparison.OrdinalIgnoreCase)
            ? PartnerCredentials.Valid
            : PartnerCredentials.Invalid;
    }

    public Task<CommandResult> ReplicateChangesAsync(string pool, ReplicationBatch changes, CancellationToken cancellationToken) =>
        server.Replication.Receiver.ReceiveChangesAsync(pool, changes, cancellationToken);

    public Task<CommandResult> ReplaceReplicaAsync(string pool, ReplicationSnapshot snapshot, CancellationToken cancellationToken) =>
        server.Replication.Receiver.ReceiveSnapshotAsync(pool, snapshot, cancellationToken);

    public TraceSubscription SubscribeTrace(TraceFilter filter, bool withText) => server.Trace.Subscribe(filter, withText);

    /// <summary>DR commands go to the backup pool: the instance that watches <paramref name="pool"/>.</summary>
    private CommandResult Run(string pool, Func<Resiliency.DrStateMachine, Resiliency.DrCommandResult> command)
    {
        if (server.Settings.Topology.FindPool(pool) is null) return CommandResult.NotFound($"no pool named {pool} in the topology");
        if (server.DrMachineOf(pool) is not { } machine)
            return CommandResult.Refused($"{server.Settings.Name} is not {pool}'s backup; run the command on the pool that backs {pool} up");
        var result = command(machine);
        return result.Accepted ? CommandResult.Done(result.Message) : CommandResult.Refused(result.Message);
    }
}
