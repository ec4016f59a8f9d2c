namespace SipCallPark.Pool.Topology;

/// <summary>Who exists in the domain, their secrets and their home pool.</summary>
public interface IUserDirectory
{
    LabUser? Find(string user);

    IEnumerable<LabUser> All { get; }
}

public sealed class UserDirectory(IEnumerable<LabUser> users) : IUserDirectory
{
    private readonly Dictionary<string, LabUser> _users = users.ToDictionary(u => u.User, StringComparer.OrdinalIgnoreCase);

    public LabUser? Find(string user) => _users.GetValueOrDefault(user);

    public IEnumerable<LabUser> All => _users.Values;
}
