using System.Globalization;
using System.Text.Json;

namespace SipCallPark.ParkLoad;

/// <summary>What the pool's admin API says about parked calls: <c>GET /status</c> and <c>GET /metrics</c>.</summary>
public sealed class AdminProbe : IDisposable
{
    private readonly HttpClient _http;

    public AdminProbe(Uri admin) => _http = new HttpClient { BaseAddress = admin, Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>counts.parked of /status, or null when the API did not answer.</summary>
    public async Task<int?> ParkedAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var doc = JsonDocument.Parse(await _http.GetStringAsync("/status", cancellationToken));
            return doc.RootElement.GetProperty("counts").GetProperty("parked").GetInt32();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The value of an unlabelled metric of /metrics (e.g. <c>sipcallpark_park_moh_streams</c>), or null.</summary>
    public async Task<double?> MetricAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var text = await _http.GetStringAsync("/metrics", cancellationToken);
            foreach (var line in text.Split('\n'))
            {
                var space = line.LastIndexOf(' ');
                if (space > 0 && line.AsSpan(0, space).SequenceEqual(name)
                    && double.TryParse(line.AsSpan(space + 1), CultureInfo.InvariantCulture, out var value)) return value;
            }
            return null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>The sum of every series of a metric of /metrics, labelled or not (e.g. <c>sipcallpark_replication_batches_total</c>), or null.</summary>
    public async Task<double?> MetricSumAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var text = await _http.GetStringAsync("/metrics", cancellationToken);
            double? sum = null;
            foreach (var line in text.Split('\n'))
            {
                var space = line.LastIndexOf(' ');
                if (space <= 0 || !line.StartsWith(name, StringComparison.Ordinal)) continue;
                var next = line.Length > name.Length ? line[name.Length] : ' ';
                if (next is not (' ' or '{')) continue;
                if (double.TryParse(line.AsSpan(space + 1), CultureInfo.InvariantCulture, out var value)) sum = (sum ?? 0) + value;
            }
            return sum;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    public void Dispose() => _http.Dispose();
}
