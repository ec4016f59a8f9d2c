namespace SipCallPark.Lab;

/// <summary>
/// What the lab runs and how fast: the pool executable, the shipped config folder its two pools start from, and
/// the lab's DR timings (seconds, not Lync's 15–30 minutes). <see cref="PcapDirectory"/> keeps one SIP trace per
/// pool process; <see cref="Keep"/> keeps each cell's folder (data, logs, topology) instead of deleting it.
/// </summary>
internal sealed record LabSettings
{
    /// <summary>SipCallPark.dll; by default the one the project reference copied next to the lab.</summary>
    public string PoolDll { get; init; } = Path.Combine(AppContext.BaseDirectory, "SipCallPark.dll");

    /// <summary>The repository's config folder (pool-a.json, pool-b.json, topology.json, users.json).</summary>
    public string ConfigDirectory { get; init; } = FindConfigDirectory();

    public string? PcapDirectory { get; init; }

    public bool Keep { get; init; }

    public TimeSpan HealthInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Pool:Health:DownAfter, the shipped default: the partner is down after this long without an answer.</summary>
    public TimeSpan DownAfter { get; init; } = TimeSpan.FromMilliseconds(1400);

    public int SuccessesToUp { get; init; } = 2;

    public TimeSpan FailoverDuration { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan FailbackDuration { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a "call stays up" cell watches for a BYE that must not come.</summary>
    public TimeSpan QuietWindow { get; init; } = TimeSpan.FromSeconds(1.5);

    /// <summary>The bound on every single wait (a start, a phase, a SIP answer).</summary>
    public TimeSpan Bound { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The config folder above the lab's binaries (the repository's), else under the current directory.</summary>
    private static string FindConfigDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SipCallPark.sln"))) return Path.Combine(directory.FullName, "config");
        }
        return Path.Combine(Directory.GetCurrentDirectory(), "config");
    }
}
