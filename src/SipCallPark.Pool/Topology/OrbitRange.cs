using System.Text.RegularExpressions;

namespace SipCallPark.Pool.Topology;

/// <summary>
/// A range of park orbits, e.g. <c>7000-7099</c> or <c>*100-*199</c>. Lync's rule: a number is
/// <c>[*#]?[1-9]\d{0,7}</c> or <c>[1-9]\d{0,8}</c>; start and end have the same length and prefix; start ≤ end.
/// </summary>
public sealed partial record OrbitRange(string Start, string End)
{
    [GeneratedRegex(@"^(?:[*#][1-9]\d{0,7}|[1-9]\d{0,8})$")]
    private static partial Regex OrbitNumber();

    public string Prefix => Start[0] is '*' or '#' ? Start[..1] : "";

    public long First => long.Parse(Start.AsSpan(Prefix.Length));

    public long Last => long.Parse(End.AsSpan(Prefix.Length));

    public long Size => Last - First + 1;

    public static bool IsOrbitNumber(string text) => OrbitNumber().IsMatch(text);

    /// <summary>Parses <c>start-end</c>; returns the reason when it breaks the rule.</summary>
    public static bool TryParse(string text, out OrbitRange range, out string reason)
    {
        range = null!;
        var dash = text.IndexOf('-', 1);
        if (dash < 0)
        {
            reason = $"'{text}' is not of the form start-end";
            return false;
        }
        var start = text[..dash].Trim();
        var end = text[(dash + 1)..].Trim();
        if (!IsOrbitNumber(start) || !IsOrbitNumber(end))
        {
            reason = $"'{text}' breaks the orbit number rule ([*#]?[1-9]\\d{{0,7}} or [1-9]\\d{{0,8}})";
            return false;
        }
        if (start.Length != end.Length || (start[0] is '*' or '#' ? start[0] : ' ') != (end[0] is '*' or '#' ? end[0] : ' '))
        {
            reason = $"'{text}': start and end must have the same length and prefix";
            return false;
        }
        range = new OrbitRange(start, end);
        if (range.First > range.Last)
        {
            reason = $"'{text}': start is above end";
            return false;
        }
        reason = "";
        return true;
    }

    public bool Contains(string orbit) => OffsetOf(orbit) >= 0;

    /// <summary>Where <paramref name="orbit"/> sits in this range (0 for the start), or −1 when it is not in it.</summary>
    public long OffsetOf(string orbit)
    {
        if (orbit.Length != Start.Length || !orbit.StartsWith(Prefix, StringComparison.Ordinal)) return -1;
        var digits = orbit.AsSpan(Prefix.Length);
        // Only plain digits: long.TryParse would also take a sign or spaces, which no orbit number has.
        if (digits.IsEmpty || digits[0] == '0' || digits.ContainsAnyExceptInRange('0', '9')) return -1;
        var n = long.Parse(digits);
        return n >= First && n <= Last ? n - First : -1;
    }

    public bool Overlaps(OrbitRange other) =>
        Prefix == other.Prefix && Start.Length == other.Start.Length && First <= other.Last && other.First <= Last;

    /// <summary>The orbit number at offset <paramref name="index"/> from the start.</summary>
    public string At(long index) => Prefix + (First + index).ToString().PadLeft(Start.Length - Prefix.Length, '0');

    public override string ToString() => $"{Start}-{End}";
}
