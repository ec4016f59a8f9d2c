namespace SipCallPark.Configuration;

/// <summary>Where the pool listens for SIP: <c>Pool:Sip</c>.</summary>
internal sealed class SipListenerOptions
{
    /// <summary>The transports the pool serves when none are configured.</summary>
    public static readonly IReadOnlyList<string> DefaultTransports = ["udp", "tcp"];

    /// <summary>The transports this build can serve; TLS and WebSocket come later.</summary>
    public static readonly IReadOnlyList<string> SupportedTransports = ["udp", "tcp"];

    /// <summary>An IP address literal (no host names): the pool binds it and puts it in Via and Record-Route.</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 5060;

    /// <summary>
    /// The <c>Server</c> header of the pool's own answers (OPTIONS); null (absent) keeps <c>SipCallPark &lt;pool&gt;</c>,
    /// an empty string sends none.
    /// </summary>
    public string? ServerHeader { get; set; }

    /// <summary>
    /// Lower-case transport names from <see cref="SupportedTransports"/>. Empty (or absent) means
    /// <see cref="DefaultTransports"/>; the default is applied after binding, see <see cref="PoolOptions.ApplyDefaults"/>.
    /// </summary>
    public IReadOnlyList<string> Transports { get; set; } = [];
}
