namespace SipCallPark.Pool;

/// <summary>A configuration value the pool refuses to start with; the message names the key.</summary>
public sealed class OptionsValidationError(string key, string reason) : Exception($"{key} {reason}")
{
    public string Key { get; } = key;
}
