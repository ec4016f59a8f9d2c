namespace SipCallPark.Sip.Message;

/// <summary>CSeq (RFC 3261 §20.16): a sequence number below 2^31 and a method.</summary>
public readonly record struct CSeqHeader(long Number, string Method)
{
    public const long MaxNumber = (1L << 31) - 1;

    public static CSeqHeader Parse(string text) =>
        TryParse(text, out var v) ? v : throw new SipParseException($"Malformed CSeq '{text}'");

    public static bool TryParse(string text, out CSeqHeader value)
    {
        value = default;
        var s = text.AsSpan().Trim();
        var i = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
        if (i == 0 || i > 10 || !long.TryParse(s[..i], out var number) || number > MaxNumber) return false;
        var method = s[i..].Trim();
        if (i < s.Length && !SipText.IsWhitespace(s[i])) return false;
        if (!SipText.IsToken(method)) return false;
        value = new CSeqHeader(number, method.ToString());
        return true;
    }

    public override string ToString() => $"{Number} {Method}";
}
