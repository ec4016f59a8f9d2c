using System.Globalization;
using System.Text;

namespace SipCallPark.Lab;

/// <summary>The lab's printout: one markdown row per cell (expected, observed, PASS/FAIL, timings) and a summary line.</summary>
internal static class SeedTableReport
{
    public static string Header =>
        "| cell (call state × DR moment) | expected (docs/design.md §6) | observed | result | outage→detected | →orphans BYE'd | failover | failback |" + Environment.NewLine +
        "|---|---|---|---|---|---|---|---|";

    public static string Row(CellResult result) =>
        $"| {result.Cell.RowText} × {result.Cell.ColumnText} | {result.Cell.Expected} | {Escape(result.Observed)} | {(result.Passed ? "PASS" : "**FAIL**")} " +
        $"| {Ms(result.Timings.OutageDetected)} | {Ms(result.Timings.OrphansByed)} | {Ms(result.Timings.Failover)} | {Ms(result.Timings.Failback)} |";

    public static string Summary(IReadOnlyList<CellResult> results, TimeSpan elapsed)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{results.Count(r => r.Passed)}/{results.Count} cells pass in {elapsed.TotalSeconds:0} s.");
        var failed = results.Where(r => !r.Passed).Select(r => r.Cell.Slug).ToArray();
        if (failed.Length > 0) text.Append(CultureInfo.InvariantCulture, $" Failing: {string.Join(", ", failed)}.");
        return text.ToString();
    }

    private static string Ms(double? ms) => ms is { } value ? value.ToString("0' ms'", CultureInfo.InvariantCulture) : "—";

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}
