using SipCallPark.Pool.Topology;

namespace SipCallPark.Pool.Park;

/// <summary>The feature codes a desk phone's park keys dial (docs/design.md §5 "Feature codes").</summary>
public sealed partial class ParkOptions
{
    /// <summary><c>*71&lt;orbit&gt;</c>: park in that orbit (a directed park). Empty turns the code off.</summary>
    public string DirectedParkCode { get; init; } = "*71";

    /// <summary><c>*72&lt;orbit&gt;</c>: pick up the call in that orbit. Empty turns the code off.</summary>
    public string RetrieveCode { get; init; } = "*72";

    /// <summary>The longest alias or service name a phone can be asked to dial; longer is a typo or an attack on the logs.</summary>
    private const int MaxDialLength = 32;

    private void ValidateFeatureCodes(string prefix)
    {
        foreach (var (key, code) in Codes())
        {
            if (code.Length is < 2 or > 6 || code[0] is not ('*' or '#') || !code.Skip(1).All(char.IsAsciiDigit))
                throw new OptionsValidationError($"{prefix}:{key}", $"must be '*' or '#' and 1 to 5 digits, or empty to turn it off (was '{code}')");
        }
        for (var i = 0; i < Aliases.Count; i++)
        {
            var alias = Aliases[i];
            if (!IsDialString(alias))
                throw new OptionsValidationError($"{prefix}:Aliases:{i}", $"must be a user name of letters, digits, '*', '#', '-', '.' or '_', at most {MaxDialLength} (was '{alias}')");
            if (string.Equals(alias, ServiceName, StringComparison.OrdinalIgnoreCase) || Aliases.Take(i).Contains(alias, StringComparer.OrdinalIgnoreCase))
                throw new OptionsValidationError($"{prefix}:Aliases:{i}", $"'{alias}' is listed twice (or is the ServiceName)");
            foreach (var (key, code) in Codes())
            {
                if (alias.StartsWith(code, StringComparison.OrdinalIgnoreCase))
                    throw new OptionsValidationError($"{prefix}:Aliases:{i}", $"'{alias}' starts with the {key} '{code}': a phone dialling it would be misread");
            }
        }
        foreach (var (key, code) in Codes())
        {
            if (string.Equals(code, ServiceName, StringComparison.OrdinalIgnoreCase) || Aliases.Contains(code, StringComparer.OrdinalIgnoreCase))
                throw new OptionsValidationError($"{prefix}:{key}", $"'{code}' is already the park service's name or an alias");
        }
        if (!string.IsNullOrEmpty(DirectedParkCode) && !string.IsNullOrEmpty(RetrieveCode)
            && (DirectedParkCode.StartsWith(RetrieveCode, StringComparison.Ordinal) || RetrieveCode.StartsWith(DirectedParkCode, StringComparison.Ordinal)))
            throw new OptionsValidationError($"{prefix}:{nameof(RetrieveCode)}", $"'{RetrieveCode}' and the DirectedParkCode '{DirectedParkCode}' must not be one the start of the other");
    }

    /// <summary>
    /// Start-time check against the topology: no orbit of any pool may be read as a feature code or alias, or the
    /// phone dialling it would get the wrong service.
    /// </summary>
    public void ValidateAgainst(PoolTopology topology, string prefix = "Park")
    {
        var ranges = topology.Pools.SelectMany(p => p.Orbits).Select(text => OrbitRange.TryParse(text, out var range, out _) ? range : null).OfType<OrbitRange>().ToArray();
        for (var i = 0; i < Aliases.Count; i++)
        {
            if (ranges.FirstOrDefault(r => r.Contains(Aliases[i])) is { } range)
                throw new OptionsValidationError($"{prefix}:Aliases:{i}", $"'{Aliases[i]}' is an orbit of the range {range}");
        }
        foreach (var (key, code) in Codes())
        {
            if (ranges.FirstOrDefault(r => HasOrbitStartingWith(r, code)) is { } range)
                throw new OptionsValidationError($"{prefix}:{key}", $"'{code}' starts orbits of the range {range}: dialling one of them would be misread");
        }
    }

    /// <summary>Whether some orbit of <paramref name="range"/> begins with <paramref name="code"/> (a '*' or '#' and digits).</summary>
    private static bool HasOrbitStartingWith(OrbitRange range, string code)
    {
        var digits = range.Start.Length - range.Prefix.Length;
        var codeDigits = code.Length - 1;
        if (range.Prefix != code[..1] || codeDigits > digits) return false;
        var scale = (long)Math.Pow(10, digits - codeDigits);
        var low = long.Parse(code.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture) * scale;
        return low <= range.Last && low + scale - 1 >= range.First;
    }

    private IEnumerable<(string Key, string Code)> Codes()
    {
        if (!string.IsNullOrEmpty(DirectedParkCode)) yield return (nameof(DirectedParkCode), DirectedParkCode);
        if (!string.IsNullOrEmpty(RetrieveCode)) yield return (nameof(RetrieveCode), RetrieveCode);
    }

    private static bool IsDialString(string text) =>
        text.Length is > 0 and <= MaxDialLength && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '*' or '#');
}
