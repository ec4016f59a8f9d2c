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

    /// <summary>The value of <see cref="NatTraversal"/>, or null when it is not one of the three names (any case).</summary>
    public SipCallPark.Pool.Registrar.NatTraversal? ParseNatTraversal() =>
        Enum.GetNames<SipCallPark.Pool.Registrar.NatTraversal>().FirstOrDefault(n => string.Equals(n, NatTraversal?.Trim(), StringComparison.OrdinalIgnoreCase)) is { } name
            ? Enum.Parse<SipCallPark.Pool.Registrar.NatTraversal>(name)
            : null;
}
