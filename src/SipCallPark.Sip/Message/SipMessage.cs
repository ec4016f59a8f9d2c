using System.Buffers;
using System.Globalization;
using System.Text;

namespace SipCallPark.Sip.Message;

/// <summary>
/// A SIP request or response: start line, ordered headers and body. Typed views of the headers the stack uses
/// are parsed on first use and cached until the headers change; a malformed one throws
/// <see cref="SipParseException"/> (the receive path validates the essential ones up front, see
/// <see cref="SipMessageValidator"/>).
/// </summary>
public abstract class SipMessage
{
    public const string Version = "SIP/2.0";

    private int _cacheVersion = -1;
    private IReadOnlyList<ViaHeader>? _vias;
    private NameAddress? _from, _to;
    private CSeqHeader? _cseq;
    private IReadOnlyList<NameAddress>? _contacts, _routes, _recordRoutes;

    // ToArray writes into this per-thread buffer and copies out once; the writing never awaits, so no other message
    // can use the buffer meanwhile.
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_writeBuffer;
    private const int KeptWriteBufferBytes = 64 * 1024;

    protected SipMessage(SipHeaders headers, ReadOnlyMemory<byte> body)
    {
        Headers = headers;
        Body = body;
    }

    public SipHeaders Headers { get; }

    /// <summary>The body; Content-Length is made to match it when the message is written.</summary>
    public ReadOnlyMemory<byte> Body { get; private set; }

    public string BodyText => Encoding.UTF8.GetString(Body.Span);

    public void SetBody(string contentType, ReadOnlyMemory<byte> body)
    {
        Headers.Set(HeaderNames.ContentType, contentType);
        Body = body;
        Headers.Set(HeaderNames.ContentLength, body.Length.ToString(CultureInfo.InvariantCulture));
    }

    public void SetBody(string contentType, string text) => SetBody(contentType, Encoding.UTF8.GetBytes(text));

    public void ClearBody()
    {
        Headers.Remove(HeaderNames.ContentType);
        Body = ReadOnlyMemory<byte>.Empty;
        Headers.Set(HeaderNames.ContentLength, "0");
    }

    public IReadOnlyList<ViaHeader> Vias
    {
        get
        {
            Refresh();
            if (_vias is not null) return _vias;
            var values = Headers.GetValues(HeaderNames.Via);
            var vias = new ViaHeader[values.Count];
            for (var i = 0; i < vias.Length; i++) vias[i] = ViaHeader.Parse(values[i]);
            return _vias = vias;
        }
    }

    public ViaHeader? TopVia => Vias.Count > 0 ? Vias[0] : null;

    public NameAddress From
    {
        get { Refresh(); return _from ??= NameAddress.Parse(Single(HeaderNames.From)); }
        set => Headers.Set(HeaderNames.From, value.ToString());
    }

    public NameAddress To
    {
        get { Refresh(); return _to ??= NameAddress.Parse(Single(HeaderNames.To)); }
        set => Headers.Set(HeaderNames.To, value.ToString());
    }

    public string CallId
    {
        get => Single(HeaderNames.CallId).Trim();
        set => Headers.Set(HeaderNames.CallId, value);
    }

    public CSeqHeader CSeq
    {
        get { Refresh(); return _cseq ??= CSeqHeader.Parse(Single(HeaderNames.CSeq)); }
        set => Headers.Set(HeaderNames.CSeq, value.ToString());
    }

    /// <summary>Max-Forwards, or null when absent; throws on a value that is not 0–255.</summary>
    public int? MaxForwards
    {
        get
        {
            var v = Headers.Get(HeaderNames.MaxForwards);
            if (v is null) return null;
            return int.TryParse(v.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= 255
                ? n : throw new SipParseException($"Malformed Max-Forwards '{v}'");
        }
        set
        {
            if (value is null) Headers.Remove(HeaderNames.MaxForwards);
            else Headers.Set(HeaderNames.MaxForwards, value.Value.ToString(CultureInfo.InvariantCulture));
        }
    }

    public IReadOnlyList<NameAddress> Contacts
    {
        get { Refresh(); return _contacts ??= Addresses(HeaderNames.Contact); }
    }

    public IReadOnlyList<NameAddress> Routes
    {
        get { Refresh(); return _routes ??= Addresses(HeaderNames.Route); }
    }

    public IReadOnlyList<NameAddress> RecordRoutes
    {
        get { Refresh(); return _recordRoutes ??= Addresses(HeaderNames.RecordRoute); }
    }

    public string? ContentType => Headers.Get(HeaderNames.ContentType)?.Trim();

    /// <summary>Option tags of Supported (or Require, Proxy-Require, Unsupported).</summary>
    public IReadOnlyList<string> OptionTags(string headerName) => Headers.GetValues(headerName);

    public bool Supports(string optionTag) =>
        OptionTags(HeaderNames.Supported).Contains(optionTag, StringComparer.OrdinalIgnoreCase) ||
        OptionTags(HeaderNames.Require).Contains(optionTag, StringComparer.OrdinalIgnoreCase);

    /// <summary>Expires header in seconds, or null when absent or not a number.</summary>
    public long? Expires => long.TryParse(Headers.Get(HeaderNames.Expires)?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var e) ? e : null;

    private NameAddress[] Addresses(string name)
    {
        var values = Headers.GetValues(name);
        if (values.Count == 0) return [];
        var addresses = new NameAddress[values.Count];
        for (var i = 0; i < addresses.Length; i++) addresses[i] = NameAddress.Parse(values[i]);
        return addresses;
    }

    private string Single(string name) => Headers.Get(name) ?? throw new SipParseException($"Missing {name} header");

    private void Refresh()
    {
        if (_cacheVersion == Headers.Version) return;
        _cacheVersion = Headers.Version;
        _vias = null;
        _from = _to = null;
        _cseq = null;
        _contacts = _routes = _recordRoutes = null;
    }

    /// <summary>Writes the start line, e.g. <c>INVITE sip:bob@b.example SIP/2.0</c>, without CRLF.</summary>
    protected abstract void WriteStartLine(IBufferWriter<byte> writer);

    public void WriteTo(IBufferWriter<byte> writer)
    {
        WriteStartLine(writer);
        writer.Write("\r\n"u8);
        Headers.WriteTo(writer);
        if (!Headers.Contains(HeaderNames.ContentLength))
        {
            writer.Write("Content-Length: "u8);
            SipWriter.WriteInt(writer, Body.Length);
            writer.Write("\r\n"u8);
        }
        writer.Write("\r\n"u8);
        writer.Write(Body.Span);
    }

    public byte[] ToArray()
    {
        var buffer = t_writeBuffer ??= new ArrayBufferWriter<byte>(2048);
        buffer.ResetWrittenCount();
        WriteTo(buffer);
        var bytes = buffer.WrittenSpan.ToArray();
        // A rare large message must not pin its buffer to the thread for good.
        if (buffer.Capacity > KeptWriteBufferBytes) t_writeBuffer = null;
        return bytes;
    }

    public override string ToString() => Encoding.UTF8.GetString(ToArray());

    /// <summary>A one-line summary for logs: start line, Call-ID, CSeq.</summary>
    public abstract string FirstLine { get; }
}
