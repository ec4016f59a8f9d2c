namespace SipCallPark.Sip.Sdp;

/// <summary>An <c>a=</c> line (RFC 4566 §5.13): a property attribute has no value, a value attribute has one.</summary>
public sealed record SdpAttribute(string Name, string? Value = null)
{
    public override string ToString() => Value is null ? Name : $"{Name}:{Value}";

    internal static bool TryParse(string value, out SdpAttribute? attribute)
    {
        attribute = null;
        var colon = value.IndexOf(':');
        var name = colon < 0 ? value : value[..colon];
        if (name.Length == 0 || name.Contains(' '))
        {
            return false;
        }

        attribute = new SdpAttribute(name, colon < 0 ? null : value[(colon + 1)..]);
        return true;
    }
}
