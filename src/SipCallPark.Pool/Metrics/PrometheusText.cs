using System.Globalization;
using System.Text;

namespace SipCallPark.Pool.Metrics;

/// <summary>
/// Writes the Prometheus text exposition format 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format): HELP and TYPE lines, then one
/// sample per line, label values escaped.
/// </summary>
internal static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static void WriteHeader(StringBuilder sb, string name, string help, string type)
    {
        sb.Append("# HELP ").Append(name).Append(' ');
        foreach (var c in help)
        {
            if (c == '\\') sb.Append(@"\\");
            else if (c == '\n') sb.Append(@"\n");
            else sb.Append(c);
        }
        sb.Append('\n');
        sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    public static void WriteSample(StringBuilder sb, string name, string labels, double value)
    {
        sb.Append(name).Append(labels).Append(' ');
        AppendValue(sb, value);
        sb.Append('\n');
    }

    public static void AppendValue(StringBuilder sb, double value)
    {
        if (double.IsNaN(value)) sb.Append("NaN");
        else if (double.IsPositiveInfinity(value)) sb.Append("+Inf");
        else if (double.IsNegativeInfinity(value)) sb.Append("-Inf");
        else sb.Append(value.ToString("R", CultureInfo.InvariantCulture));
    }

    /// <summary>Renders <c>{a="x",b="y"}</c>, or an empty string when there are no labels.</summary>
    public static string Labels(ReadOnlySpan<(string Name, string Value)> labels)
    {
        if (labels.Length == 0) return "";
        var sb = new StringBuilder("{");
        for (var i = 0; i < labels.Length; i++)
        {
            if (i > 0) sb.Append(',');
            if (!IsValidLabelName(labels[i].Name))
                throw new ArgumentException($"'{labels[i].Name}' is not a valid Prometheus label name", nameof(labels));
            sb.Append(labels[i].Name).Append("=\"");
            AppendEscapedLabelValue(sb, labels[i].Value);
            sb.Append('"');
        }
        return sb.Append('}').ToString();
    }

    public static void AppendEscapedLabelValue(StringBuilder sb, string value)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append(@"\n"); break;
                default: sb.Append(c); break;
            }
        }
    }

    /// <summary>Metric names match <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>.</summary>
    public static bool IsValidMetricName(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0])) return false;
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_' && c != ':') return false;
        }
        return true;
    }

    /// <summary>Label names match <c>[a-zA-Z_][a-zA-Z0-9_]*</c> and must not start with <c>__</c> (reserved).</summary>
    public static bool IsValidLabelName(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]) || name.StartsWith("__", StringComparison.Ordinal)) return false;
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_') return false;
        }
        return true;
    }
}
