namespace SipCallPark.Configuration;

/// <summary>Where the pool listens for SIP: <c>Pool:Sip</c>.</summary>
internal sealed class SipListenerOptions
{
    /// <summary>The transports the pool serves when none are configured.</summary>
    public static readonly IReadOnlyList<string> DefaultTransports = ["udp", "tcp"];

    /// <summary>The transports this build can serve.</summary>
    public static readonly IReadOnlyList<string> SupportedTransports = ["udp", "tcp", "tls", "ws", "wss"];

    /// <summary>An IP address literal (no host names): the pool binds it and puts it in Via and Record-Route.</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 5060;

    /// <summary>
    /// The <c>Server</c> header of the pool's own answers (OPTIONS); null (absent) keeps <c>SipCallPark &lt;pool&gt;</c>,
    /// an empty string sends none.
    /// </summary>
    public string? ServerHeader { get; set; }

    /// <summary>
    /// The SIP over TLS port when <see cref="Transports"/> lists <c>tls</c>. Absent means <see cref="Port"/> + 1: 5061 for
    /// pool-a (5060) and 5063 for pool-b (5062), the pair RFC 3261 §26.2.2 gives SIP and SIPS.
    /// </summary>
    public int? TlsPort { get; set; }

    /// <summary>
    /// SIP over WebSocket (RFC 7118) when <see cref="Transports"/> lists <c>ws</c>. Absent means <see cref="Port"/> + 3028:
    /// 8088 for pool-a (5060) and 8090 for pool-b (5062).
    /// </summary>
    public int? WebSocketPort { get; set; }

    /// <summary>SIP over secure WebSocket when <see cref="Transports"/> lists <c>wss</c>. Absent means <see cref="Port"/> + 3029: 8089, 8091.</summary>
    public int? SecureWebSocketPort { get; set; }

    /// <summary>
    /// Lower-case transport names from <see cref="SupportedTransports"/>. Empty (or absent) means
    /// <see cref="DefaultTransports"/>; the default is applied after binding, see <see cref="PoolOptions.ApplyDefaults"/>.
    /// </summary>
    public IReadOnlyList<string> Transports { get; set; } = [];

    /// <summary>The TLS certificate and its limits: <c>Pool:Sip:Tls</c>.</summary>
    public SipTlsOptions Tls { get; set; } = new();

    /// <summary>The TLS port in effect: <see cref="TlsPort"/>, else <see cref="Port"/> + 1.</summary>
    public int EffectiveTlsPort() => TlsPort ?? Port + 1;

    public int EffectiveWebSocketPort() => WebSocketPort ?? Port + 3028;

    public int EffectiveSecureWebSocketPort() => SecureWebSocketPort ?? Port + 3029;

    /// <summary>TLS's certificate is needed for <c>tls</c> and for <c>wss</c>.</summary>
    public bool NeedsCertificate => Serves("tls") || Serves("wss");

    public bool Serves(string transport) => Transports.Contains(transport);
}
