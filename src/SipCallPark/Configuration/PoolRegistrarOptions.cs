namespace SipCallPark.Configuration;

/// <summary>The registrar: <c>Pool:Registrar</c>.</summary>
internal sealed class PoolRegistrarOptions
{
    /// <summary>
    /// Where calls for a registered contact go: <c>Auto</c> (the Contact, unless its REGISTER showed a NAT sign),
    /// <c>Always</c> (the REGISTER's source) or <c>Never</c> (the Contact). Read as text so that a wrong value is
    /// refused naming this key, not bound to an undefined number.
    /// </summary>
    public string NatTraversal { get; set; } = nameof(SipCallPark.Pool.Registrar.NatTraversal.Auto);

    /// <summary>
    /// The most contacts one address of record may hold (docs/design.md §11): a REGISTER that would add more gets
    /// 403, and a request to the address is forked to no more than this many. 1–1000.
    /// </summary>
    public int MaxContactsPerAor { get; set; } = 10;

    /// <summary>Checks the numbers; <see cref="NatTraversal"/> is checked by the pool's validator.</summary>
    public void Validate(string prefix)
    {
        if (MaxContactsPerAor is < 1 or > 1000)
            throw new SipCallPark.Pool.OptionsValidationError($"{prefix}:MaxContactsPerAor", $"must be between 1 and 1000 (was {MaxContactsPerAor})");
    }

    /// <summary>The value of <see cref="NatTraversal"/>, or null when it is not one of the three names (any case).</summary>
    public SipCallPark.Pool.Registrar.NatTraversal? ParseNatTraversal() =>
        Enum.GetNames<SipCallPark.Pool.Registrar.NatTraversal>().FirstOrDefault(n => string.Equals(n, NatTraversal?.Trim(), StringComparison.OrdinalIgnoreCase)) is { } name
            ? Enum.Parse<SipCallPark.Pool.Registrar.NatTraversal>(name)
            : null;
}
