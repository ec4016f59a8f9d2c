namespace SipCallPark.Pool.Topology;

/// <summary>One pool of the topology: its addresses, orbits and backup (Lync pairs pools 1:1).</summary>
public sealed class PoolDefinition
{
    public string Name { get; init; } = "";

    /// <summary>SIP address, <c>host:port</c>.</summary>
    public string Sip { get; init; } = "";

    /// <summary>Admin API base URL.</summary>
    public string Admin { get; init; } = "";

    public string? Backup { get; init; }

    public List<string> Orbits { get; init; } = [];
}

public sealed class UserDefinition
{
    public string User { get; init; } = "";

    public string HomePool { get; init; } = "";
}

/// <summary>
/// The shared topology file (the same for both pools): domain, pools and users' home pools. <see cref="Validate"/>
/// refuses what Lync would refuse, naming the key: overlapping or malformed orbit ranges, an unknown backup pool,
/// a user homed nowhere.
/// </summary>
public sealed class PoolTopology
{
    public string Domain { get; init; } = "callpark.lab";

    public List<PoolDefinition> Pools { get; init; } = [];

    public List<UserDefinition> Users { get; init; } = [];

    public PoolDefinition? FindPool(string name) => Pools.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The pool that owns an orbit number, or null.</summary>
    public PoolDefinition? OwnerOfOrbit(string orbit) =>
        Pools.FirstOrDefault(p => p.Orbits.Any(r => OrbitRange.TryParse(r, out var range, out _) && range.Contains(orbit)));

    public void Validate(string prefix = "Topology")
    {
        if (string.IsNullOrWhiteSpace(Domain) || Domain.Any(c => char.IsWhiteSpace(c) || c is '@' or ':' or ';'))
            throw new OptionsValidationError($"{prefix}:Domain", $"must be a host name (was '{Domain}')");
        if (Pools.Count == 0) throw new OptionsValidationError($"{prefix}:Pools", "must list at least one pool");
        var ranges = new List<(string Key, string Pool, OrbitRange Range)>();
        for (var i = 0; i < Pools.Count; i++)
        {
            var pool = Pools[i];
            var key = $"{prefix}:Pools:{i}";
            if (string.IsNullOrWhiteSpace(pool.Name)) throw new OptionsValidationError($"{key}:Name", "must not be empty");
            if (Pools.Count(p => string.Equals(p.Name, pool.Name, StringComparison.OrdinalIgnoreCase)) > 1)
                throw new OptionsValidationError($"{key}:Name", $"'{pool.Name}' appears twice");
            if (!System.Net.IPEndPoint.TryParse(pool.Sip, out var sip) || sip.Port == 0)
                throw new OptionsValidationError($"{key}:Sip", $"must be ip:port (was '{pool.Sip}')");
            if (!Uri.TryCreate(pool.Admin, UriKind.Absolute, out var admin) || admin.Scheme is not ("http" or "https"))
                throw new OptionsValidationError($"{key}:Admin", $"must be an http(s) URL (was '{pool.Admin}')");
            if (pool.Backup is { } backup)
            {
                if (FindPool(backup) is null) throw new OptionsValidationError($"{key}:Backup", $"names unknown pool '{backup}'");
                if (string.Equals(backup, pool.Name, StringComparison.OrdinalIgnoreCase))
                    throw new OptionsValidationError($"{key}:Backup", "a pool cannot back itself up");
            }
            for (var r = 0; r < pool.Orbits.Count; r++)
            {
                if (!OrbitRange.TryParse(pool.Orbits[r], out var range, out var reason))
                    throw new OptionsValidationError($"{key}:Orbits:{r}", reason);
                var clash = ranges.FirstOrDefault(x => x.Range.Overlaps(range));
                if (clash.Range is not null)
                    throw new OptionsValidationError($"{key}:Orbits:{r}", $"'{range}' overlaps '{clash.Range}' of {clash.Pool}");
                ranges.Add(($"{key}:Orbits:{r}", pool.Name, range));
            }
        }
        for (var i = 0; i < Users.Count; i++)
        {
            var user = Users[i];
            if (string.IsNullOrWhiteSpace(user.User)) throw new OptionsValidationError($"{prefix}:Users:{i}:User", "must not be empty");
            if (FindPool(user.HomePool) is null)
                throw new OptionsValidationError($"{prefix}:Users:{i}:HomePool", $"names unknown pool '{user.HomePool}'");
        }
    }
}
