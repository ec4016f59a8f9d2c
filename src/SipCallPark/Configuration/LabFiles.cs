using System.Text.Json;
using SipCallPark.Pool;
using SipCallPark.Pool.Topology;

namespace SipCallPark.Configuration;

/// <summary>
/// Reads the two files both pools share: the topology (<c>{"Topology": {...}}</c>) and the users' credentials
/// (<c>{"Users": [{"user", "password" | "ha1" | "ha1Sha256"}]}</c>). Problems become one startup message naming the
/// file and the key.
/// </summary>
internal static class LabFiles
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private sealed record TopologyFile(PoolTopology? Topology);

    private sealed record UserEntry(string? User, string? Password, string? Ha1, string? Ha1Sha256);

    private sealed record UsersFile(List<UserEntry>? Users);

    public static PoolTopology LoadTopology(string path, string poolName)
    {
        var topology = Read<TopologyFile>(path).Topology ?? throw new PoolConfigurationException($"{path}: the file has no \"Topology\" section");
        try
        {
            topology.Validate();
        }
        catch (OptionsValidationError e)
        {
            throw new PoolConfigurationException($"{path}: {e.Message}");
        }
        if (topology.FindPool(poolName) is null)
            throw new PoolConfigurationException($"Pool:Name '{poolName}' is not one of the pools in {path} ({string.Join(", ", topology.Pools.Select(p => p.Name))})");
        return topology;
    }

    public static IReadOnlyList<LabUser> LoadUsers(string path, PoolTopology topology)
    {
        var entries = Read<UsersFile>(path).Users ?? throw new PoolConfigurationException($"{path}: the file has no \"Users\" list");
        var users = new List<LabUser>();
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (string.IsNullOrWhiteSpace(e.User)) throw new PoolConfigurationException($"{path}: Users:{i}:user must not be empty");
            if (e.Password is null && e.Ha1 is null && e.Ha1Sha256 is null)
                throw new PoolConfigurationException($"{path}: Users:{i} ({e.User}) needs password, ha1 or ha1Sha256");
            var home = topology.Users.FirstOrDefault(u => string.Equals(u.User, e.User, StringComparison.OrdinalIgnoreCase))?.HomePool
                       ?? throw new PoolConfigurationException($"{path}: Users:{i} ({e.User}) has no home pool in the topology");
            users.Add(new LabUser(e.User, home, e.Password, e.Ha1, e.Ha1Sha256));
        }
        return users;
    }

    private static T Read<T>(string path)
    {
        if (!File.Exists(path)) throw new PoolConfigurationException($"file '{path}' not found (a relative path starts at the current directory)");
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json) ?? throw new PoolConfigurationException($"{path} is empty");
        }
        catch (JsonException e)
        {
            throw new PoolConfigurationException($"{path} is not valid: {e.Message}");
        }
    }
}
