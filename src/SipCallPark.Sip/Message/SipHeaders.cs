using System.Buffers;
using System.Collections;
using System.Text;

namespace SipCallPark.Sip.Message;

/// <summary>One header line: canonical name and value (folding collapsed to one space).</summary>
public readonly record struct SipHeaderField(string Name, string Value);

/// <summary>
/// The header lines of a message, in order, raw where they were parsed. A parsed line keeps a reference to its
/// bytes: its value becomes a string only when someone asks for it, and an untouched line is written back byte for
/// byte (compact names and folding included). Lookups accept long or compact names.
/// </summary>
public sealed class SipHeaders : IEnumerable<SipHeaderField>
{
    private struct Field
    {
        public string Name;
        public int LineStart;   // -1 when the line was set in code
        public int LineLength;
        public int ValueStart;
        public int ValueLength;
        public string? Value;
    }

    private readonly ReadOnlyMemory<byte> _raw;
    private Field[] _fields;
    private int _count;

    public SipHeaders() : this(ReadOnlyMemory<byte>.Empty, 8)
    {
    }

    internal SipHeaders(ReadOnlyMemory<byte> raw, int capacity)
    {
        _raw = raw;
        _fields = new Field[Math.Max(capacity, 4)];
    }

    /// <summary>Bumped on every change so typed views of the headers know when to parse again.</summary>
    internal int Version { get; private set; }

    public int Count => _count;

    public SipHeaderField this[int index] => new(_fields[index].Name, ValueAt(index));

    internal void AddRaw(string name, int lineStart, int lineLength, int valueStart, int valueLength)
    {
        Grow();
        _fields[_count++] = new Field { Name = name, LineStart = lineStart, LineLength = lineLength, ValueStart = valueStart, ValueLength = valueLength };
    }

    internal void RemoveLastRaw() => _fields[--_count] = default;

    internal ReadOnlySpan<byte> RawValue(int index) => _fields[index].LineStart >= 0 && _fields[index].Value is null
        ? _raw.Span.Slice(_fields[index].ValueStart, _fields[index].ValueLength)
        : Encoding.UTF8.GetBytes(ValueAt(index));

    private string ValueAt(int index)
    {
        ref var f = ref _fields[index];
        return f.Value ??= Materialize(_raw.Span.Slice(f.ValueStart, f.ValueLength));
    }

    /// <summary>UTF-8 to string, with each CRLF + whitespace fold replaced by one space (RFC 3261 §7.3.1).</summary>
    private static string Materialize(ReadOnlySpan<byte> value)
    {
        if (value.IndexOfAny((byte)'\r', (byte)'\n') < 0) return Encoding.UTF8.GetString(value);
        var text = Encoding.UTF8.GetString(value);
        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] is '\r' or '\n')
            {
                while (i + 1 < text.Length && text[i + 1] is '\r' or '\n' or ' ' or '\t') i++;
                if (sb.Length > 0 && sb[^1] != ' ') sb.Append(' ');
                continue;
            }
            sb.Append(text[i]);
        }
        return sb.ToString().Trim();
    }

    public bool Contains(string name) => IndexOf(HeaderNames.Canonical(name), 0) >= 0;

    /// <summary>The first line's value with that name, or null.</summary>
    public string? Get(string name)
    {
        var i = IndexOf(HeaderNames.Canonical(name), 0);
        return i < 0 ? null : ValueAt(i);
    }

    /// <summary>How many lines carry that name.</summary>
    public int CountOf(string name)
    {
        var canonical = HeaderNames.Canonical(name);
        var n = 0;
        for (var i = IndexOf(canonical, 0); i >= 0; i = IndexOf(canonical, i + 1)) n++;
        return n;
    }

    /// <summary>Every line's value with that name, in order.</summary>
    public IEnumerable<string> GetAll(string name)
    {
        var canonical = HeaderNames.Canonical(name);
        for (var i = IndexOf(canonical, 0); i >= 0; i = IndexOf(canonical, i + 1)) yield return ValueAt(i);
    }

    /// <summary>
    /// Every value with that name across all lines, comma lists split (RFC 3261 §7.3.1). Throws
    /// <see cref="SipParseException"/> on unbalanced quotes or brackets.
    /// </summary>
    public List<string> GetValues(string name)
    {
        var canonical = HeaderNames.Canonical(name);
        var list = new List<string>();
        for (var i = IndexOf(canonical, 0); i >= 0; i = IndexOf(canonical, i + 1))
        {
            var line = ValueAt(i);
            if (!SipText.TrySplitList(line, list)) throw new SipParseException($"Malformed {name} list '{line}'");
        }
        return list;
    }

    public void Add(string name, string value)
    {
        Grow();
        _fields[_count++] = Code(name, value);
        Version++;
    }

    /// <summary>Inserts before the first line with that name (or at the top): how Via and Record-Route grow.</summary>
    public void Prepend(string name, string value)
    {
        var canonical = HeaderNames.Canonical(name);
        var at = IndexOf(canonical, 0);
        InsertAt(at < 0 ? 0 : at, Code(canonical, value));
    }

    /// <summary>Replaces the first line with that name in place and removes the others, or adds one at the end.</summary>
    public void Set(string name, string value)
    {
        var canonical = HeaderNames.Canonical(name);
        var at = IndexOf(canonical, 0);
        if (at < 0)
        {
            Add(canonical, value);
            return;
        }
        _fields[at] = Code(canonical, value);
        for (var i = IndexOf(canonical, at + 1); i >= 0; i = IndexOf(canonical, i)) RemoveAt(i);
        Version++;
    }

    /// <summary>Removes every line with that name; returns how many.</summary>
    public int Remove(string name)
    {
        var canonical = HeaderNames.Canonical(name);
        var removed = 0;
        for (var i = IndexOf(canonical, 0); i >= 0; i = IndexOf(canonical, i))
        {
            RemoveAt(i);
            removed++;
        }
        if (removed > 0) Version++;
        return removed;
    }

    /// <summary>
    /// Removes the first value of a list header: the first element of the first line, or the whole line when it
    /// holds one value (a proxy popping its own Route, a response losing its top Via).
    /// </summary>
    public bool RemoveFirstValue(string name)
    {
        var canonical = HeaderNames.Canonical(name);
        var at = IndexOf(canonical, 0);
        if (at < 0) return false;
        var parts = new List<string>();
        if (!SipText.TrySplitList(ValueAt(at), parts)) throw new SipParseException($"Malformed {name} list");
        if (parts.Count <= 1) RemoveAt(at);
        else _fields[at] = Code(canonical, string.Join(", ", parts.Skip(1)));
        Version++;
        return true;
    }

    /// <summary>A copy whose lines are all set in code (no reference to the original bytes).</summary>
    public SipHeaders Clone()
    {
        var copy = new SipHeaders(ReadOnlyMemory<byte>.Empty, _count);
        for (var i = 0; i < _count; i++) copy.Add(_fields[i].Name, ValueAt(i));
        return copy;
    }

    internal void WriteTo(IBufferWriter<byte> writer)
    {
        // Untouched lines that lie next to each other in the received bytes (CRLF between them) go out as one block.
        var raw = _raw.Span;
        int runStart = -1, runEnd = -1;
        for (var i = 0; i < _count; i++)
        {
            ref var f = ref _fields[i];
            if (f.LineStart >= 0)
            {
                var lineEnd = f.LineStart + f.LineLength;
                var crlfFollows = lineEnd + 1 < raw.Length && raw[lineEnd] == '\r' && raw[lineEnd + 1] == '\n';
                if (runStart >= 0 && f.LineStart == runEnd && crlfFollows)
                {
                    runEnd = lineEnd + 2;
                    continue;
                }
                Flush(writer, raw, ref runStart, runEnd);
                if (crlfFollows)
                {
                    runStart = f.LineStart;
                    runEnd = lineEnd + 2;
                    continue;
                }
                writer.Write(raw.Slice(f.LineStart, f.LineLength));
            }
            else
            {
                Flush(writer, raw, ref runStart, runEnd);
                SipWriter.WriteAscii(writer, f.Name);
                writer.Write(": "u8);
                SipWriter.WriteUtf8(writer, f.Value!);
            }
            writer.Write("\r\n"u8);
        }
        Flush(writer, raw, ref runStart, runEnd);
    }

    private static void Flush(IBufferWriter<byte> writer, ReadOnlySpan<byte> raw, ref int runStart, int runEnd)
    {
        if (runStart < 0) return;
        writer.Write(raw[runStart..runEnd]);
        runStart = -1;
    }

    private static Field Code(string name, string value)
    {
        if (value.AsSpan().IndexOfAny('\r', '\n') >= 0) throw new ArgumentException($"Header {name} value may not contain CR or LF", nameof(value));
        return new Field { Name = HeaderNames.Canonical(name), LineStart = -1, Value = value };
    }

    private int IndexOf(string canonical, int start)
    {
        for (var i = start; i < _count; i++)
        {
            if (ReferenceEquals(_fields[i].Name, canonical) || string.Equals(_fields[i].Name, canonical, StringComparison.OrdinalIgnoreCase)) return i;
        }
        return -1;
    }

    private void InsertAt(int index, Field field)
    {
        Grow();
        Array.Copy(_fields, index, _fields, index + 1, _count - index);
        _fields[index] = field;
        _count++;
        Version++;
    }

    private void RemoveAt(int index)
    {
        Array.Copy(_fields, index + 1, _fields, index, _count - index - 1);
        _fields[--_count] = default;
    }

    private void Grow()
    {
        if (_count == _fields.Length) Array.Resize(ref _fields, _fields.Length * 2);
    }

    public IEnumerator<SipHeaderField> GetEnumerator()
    {
        for (var i = 0; i < _count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
