using System.Globalization;

namespace SipCallPark.CallParkCtl;

/// <summary>How times and durations read in the tables: UTC, so both pools' tables line up whatever the host's zone.</summary>
internal static class Format
{
    public static string Time(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset? time) => time is { } t ? Time(t) : "-";

    public static string Duration(double seconds)
    {
        var span = TimeSpan.FromSeconds(Math.Max(0, Math.Floor(seconds)));
        return span.Days > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{span.Days}d {span.Hours:00}:{span.Minutes:00}:{span.Seconds:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{span.Hours:00}:{span.Minutes:00}:{span.Seconds:00}");
    }

    public static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    public static string Health(bool? healthy) => healthy switch
    {
        true => "healthy",
        false => "down",
        null => "not probed",
    };
}
