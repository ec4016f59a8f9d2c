using System.Buffers;

namespace SipCallPark.Sip.Message;

/// <summary>A SIP request (RFC 3261 §7.1).</summary>
public sealed class SipRequest : SipMessage
{
    private SipUri? _uri;
    private readonly ReadOnlyMemory<byte> _rawUri;

    public SipRequest(string method, SipUri requestUri, SipHeaders? headers = null, ReadOnlyMemory<byte> body = default)
        : base(headers ?? new SipHeaders(), body)
    {
        Method = method;
        _uri = requestUri;
    }

    internal SipRequest(string method, ReadOnlyMemory<byte> rawUri, SipHeaders headers, ReadOnlyMemory<byte> body)
        : base(headers, body)
    {
        Method = method;
        _rawUri = rawUri;
    }

    public string Method { get; }

    /// <summary>The Request-URI, parsed on first use (the parser has already checked it).</summary>
    public SipUri RequestUri
    {
        get => _uri ??= SipUri.Parse(System.Text.Encoding.UTF8.GetString(_rawUri.Span));
        set => _uri = value;
    }

    public bool IsInvite => Method == SipMethods.Invite;

    public override string FirstLine => $"{Method} {RequestUri} {Version}";

    protected override void WriteStartLine(IBufferWriter<byte> writer)
    {
        SipWriter.WriteAscii(writer, Method);
        writer.Write(" "u8);
        if (_uri is null) writer.Write(_rawUri.Span);
        else SipWriter.WriteUtf8(writer, _uri.ToString());
        writer.Write(" SIP/2.0"u8);
    }
}
