using System.Text;

namespace SipCallPark.Sip.Message;

/// <summary>Character classes and small scanners of the SIP grammar (RFC 3261 §25.1).</summary>
internal static class SipText
{
    public static bool IsWhitespace(char c) => c is ' ' or '\t' or '\r' or '\n';

    public static int SkipWhitespace(ReadOnlySpan<char> s, int i)
    {
        while (i < s.Length && IsWhitespace(s[i])) i++;
        return i;
    }

    /// <summary>token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")</summary>
    public static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '!' or '%' or '*' or '_' or '+' or '`' or '\'' or '~';

    public static bool IsToken(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty) return false;
        foreach (var c in s)
        {
            if (!IsTokenChar(c)) return false;
        }
        return true;
    }

    public static bool IsToken(ReadOnlySpan<byte> s)
    {
        if (s.IsEmpty) return false;
        foreach (var b in s)
        {
            if (b > 127 || !IsTokenChar((char)b)) return false;
        }
        return true;
    }

    /// <summary>Index just past the closing quote of the quoted string starting at <paramref name="start"/>, or -1.</summary>
    public static int EndOfQuoted(ReadOnlySpan<char> s, int start)
    {
        for (var i = start + 1; i < s.Length; i++)
        {
            if (s[i] == '\\') { i++; continue; }
            if (s[i] == '"') return i + 1;
        }
        return -1;
    }

    public static string Unquote(string s)
    {
        if (s.Length < 2 || s[0] != '"' || s[^1] != '"') return s;
        var inner = s.AsSpan(1, s.Length - 2);
        if (inner.IndexOf('\\') < 0) return inner.ToString();
        var sb = new StringBuilder(inner.Length);
        for (var i = 0; i < inner.Length; i++)
        {
            if (inner[i] == '\\' && i + 1 < inner.Length) i++;
            sb.Append(inner[i]);
        }
        return sb.ToString();
    }

    public static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (var c in s)
        {
            if (c is '"' or '\\') sb.Append('\\');
            sb.Append(c);
        }
        return sb.Append('"').ToString();
    }

    /// <summary>
    /// Splits a list header value at top-level commas: commas inside quotes or angle brackets do not split.
    /// Returns false when quotes or brackets are unbalanced.
    /// </summary>
    public static bool TrySplitList(string value, List<string> parts)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '"')
            {
                var end = EndOfQuoted(value, i);
                if (end < 0) return false;
                i = end - 1;
            }
            else if (c == '<') depth++;
            else if (c == '>') { if (--depth < 0) return false; }
            else if (c == ',' && depth == 0)
            {
                AddTrimmed(value, start, i, parts);
                start = i + 1;
            }
        }
        if (depth != 0) return false;
        AddTrimmed(value, start, value.Length, parts);
        return true;
    }

    private static void AddTrimmed(string value, int start, int end, List<string> parts)
    {
        var part = value.AsSpan(start, end - start).Trim();
        if (part.IsEmpty) return;
        // The usual case, one value on the line with nothing to trim, keeps the line's string.
        parts.Add(part.Length == value.Length ? value : part.ToString());
    }

    /// <summary>Percent-decodes (RFC 3986 §2.1) as UTF-8; malformed escapes are kept as written.</summary>
    public static string Unescape(string s)
    {
        if (s.IndexOf('%') < 0) return s;
        var bytes = new List<byte>(s.Length);
        // Once, outside the loop: a stackalloc inside it is only released on return, so a long value overflowed the stack.
        Span<byte> buf = stackalloc byte[4];
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '%' && i + 2 < s.Length && IsHex(s[i + 1]) && IsHex(s[i + 2]))
            {
                bytes.Add((byte)(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
                i += 2;
            }
            else
            {
                var n = Encoding.UTF8.GetBytes(s.AsSpan(i, char.IsSurrogatePair(s, i) ? 2 : 1), buf);
                if (char.IsSurrogatePair(s, i)) i++;
                for (var k = 0; k < n; k++) bytes.Add(buf[k]);
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>Percent-encodes every character outside <paramref name="allowed"/> (and all non-ASCII) as UTF-8.</summary>
    public static string Escape(string s, Func<char, bool> allowed)
    {
        var sb = new StringBuilder(s.Length);
        Span<byte> buf = stackalloc byte[4];
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c < 128 && allowed(c)) { sb.Append(c); continue; }
            var len = char.IsSurrogatePair(s, i) ? 2 : 1;
            var n = Encoding.UTF8.GetBytes(s.AsSpan(i, len), buf);
            i += len - 1;
            for (var k = 0; k < n; k++) sb.Append('%').Append(buf[k].ToString("X2"));
        }
        return sb.ToString();
    }

    public static bool IsUnreserved(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '!' or '~' or '*' or '\'' or '(' or ')';

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
