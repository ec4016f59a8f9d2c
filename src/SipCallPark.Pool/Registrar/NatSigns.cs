namespace SipCallPark.Pool.Registrar;

/// <summary>
/// What a REGISTER showed about the network between the phone and the pool, in the manner of Kamailio's
/// <c>nat_uac_test</c>: any sign means the phone is reached at the REGISTER's source, not at its Contact.
/// </summary>
[Flags]
public enum NatSigns
{
    /// <summary>The Contact is where the REGISTER came from (its port may differ: a separate tool registered it).</summary>
    None = 0,

    /// <summary>The Contact's host is not the source IP address (or not an IP address at all).</summary>
    ContactAddress = 1,

    /// <summary>The Contact's address is private (RFC 1918, RFC 6598, RFC 4193) while the source is not.</summary>
    PrivateContact = 2,

    /// <summary>The top Via's sent-by is not the source address and port (what rport repairs, RFC 3581).</summary>
    ViaSentBy = 4,

    /// <summary>The phone asked for SIP outbound (RFC 5626: <c>reg-id</c> with <c>+sip.instance</c>, or <c>;ob</c>).</summary>
    Outbound = 8,

    /// <summary>The REGISTER came over a connection (TCP, TLS, WebSocket): requests go back over it.</summary>
    Connection = 16,
}
