namespace SipCallPark.Pool.Registrar;

/// <summary>Registration intervals (RFC 3261 §10.2.1, §10.3 step 7) and whether REGISTER must authenticate.</summary>
public sealed class RegistrarOptions
{
    public int MinExpires { get; init; } = 60;

    public int MaxExpires { get; init; } = 7200;

    public int DefaultExpires { get; init; } = 3600;

    /// <summary>Lab-only switch for benchmarks: accept REGISTER without digest authentication.</summary>
    public bool RequireAuthentication { get; init; } = true;

    /// <summary>
    /// The most contacts one address of record may hold (docs/design.md §11): a REGISTER that would add more gets 403,
    /// and a request to the address is forked to no more than this many. 1–1000.
    /// </summary>
    public int MaxContactsPerAor { get; init; } = 10;

    /// <summary>Whether requests go to a binding's Contact or to its REGISTER's source (<see cref="Registrar.NatTraversal"/>).</summary>
    public NatTraversal NatTraversal { get; init; } = NatTraversal.Auto;

    public void Validate(string prefix)
    {
        if (MaxContactsPerAor is < 1 or > 1000)
            throw new OptionsValidationError($"{prefix}:MaxContactsPerAor", $"must be between 1 and 1000 (was {MaxContactsPerAor})");
        if (MinExpires is < 1 or > 86400) throw new OptionsValidationError($"{prefix}:MinExpires", $"must be between 1 and 86400 (was {MinExpires})");
        if (MaxExpires < MinExpires) throw new OptionsValidationError($"{prefix}:MaxExpires", $"must not be below MinExpires (was {MaxExpires})");
        if (DefaultExpires < MinExpires || DefaultExpires > MaxExpires)
            throw new OptionsValidationError($"{prefix}:DefaultExpires", $"must be between MinExpires and MaxExpires (was {DefaultExpires})");
        if (!Enum.IsDefined(NatTraversal))
            throw new OptionsValidationError($"{prefix}:NatTraversal", $"must be Auto, Always or Never (was {(int)NatTraversal})");
    }
}
