using System.Collections.Concurrent;
using System.Text;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Metrics;

/// <summary>
/// The pool's Prometheus metrics, all named <c>sipcallpark_*</c>. <see cref="Observe"/> counts every SIP message the
/// transport sends or receives (retransmissions included) with no allocation for known methods; other components
/// register gauges read at scrape time (<see cref="RegisterGauge"/>) and bump named counters
/// (<see cref="Increment"/>). Thread-safe; one instance per pool, passed to whoever needs it.
/// </summary>
public sealed class SipMetrics
{
    public const string Prefix = "sipcallpark_";
    public const string RequestsName = Prefix + "sip_requests_total";
    public const string ResponsesName = Prefix + "sip_responses_total";

    /// <summary>Methods counted under their own name; anything else is <c>OTHER</c>, so a peer inventing methods
    /// cannot grow the label set without bound.</summary>
    private static readonly string[] Methods =
    [
        SipMethods.Invite, SipMethods.Ack, SipMethods.Bye, SipMethods.Cancel, SipMethods.Options, SipMethods.Register,
        SipMethods.Refer, SipMethods.Notify, SipMethods.Subscribe, SipMethods.Message, SipMethods.Info,
        SipMethods.Update, SipMethods.Prack, SipMethods.Publish, "OTHER",
    ];

    private static readonly int OtherMethod = Methods.Length - 1;

    private readonly long[] _requests = new long[2 * Methods.Length];
    private readonly ConcurrentDictionary<ResponseKey, Counter> _responses = new();
    private readonly ConcurrentDictionary<string, MetricFamily> _families = new(StringComparer.Ordinal);

    /// <summary>Counts one message crossing the transport; called for every message, in and out.</summary>
    public void Observe(SipMessageEvent e)
    {
        var direction = e.Direction == SipDirection.In ? 0 : 1;
        switch (e.Message)
        {
            case SipRequest request:
                Interlocked.Increment(ref _requests[direction * Methods.Length + MethodIndex(request.Method)]);
                break;
            case SipResponse response:
                var key = new ResponseKey(direction, response.StatusCode, CSeqMethodIndex(response));
                if (!_responses.TryGetValue(key, out var counter)) counter = _responses.GetOrAdd(key, static _ => new Counter());
                Interlocked.Increment(ref counter.Value);
                break;
        }
    }

    /// <summary>
    /// Exposes <paramref name="read"/> as gauge <c>sipcallpark_{name}</c>, read at each scrape (registrations, active
    /// transactions, dialogs, parked calls, orbits in use). Dispose the result to remove it.
    /// </summary>
    public IDisposable RegisterGauge(string name, string help, Func<double> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        var gauge = new GaugeFamily(NewName(name), help, read);
        if (!_families.TryAdd(gauge.Name, gauge))
            throw new InvalidOperationException($"Metric {gauge.Name} is already registered");
        return new Registration(this, gauge);
    }

    /// <summary>
    /// Adds one to counter <c>sipcallpark_{name}</c> with the given labels, creating it on first use
    /// (<c>Increment("dr_transitions_total", "...", ("pool", "pool-a"), ("phase", "FailedOver"))</c>).
    /// </summary>
    public void Increment(string name, string help, params ReadOnlySpan<(string Name, string Value)> labels) =>
        Add(name, help, 1, labels);

    /// <summary>Adds <paramref name="amount"/> (0 declares the series so it shows before the first event).</summary>
    public void Add(string name, string help, long amount, params ReadOnlySpan<(string Name, string Value)> labels)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(amount);
        var fullName = NewName(name);
        var family = _families.TryGetValue(fullName, out var f) ? f : _families.GetOrAdd(fullName, n => new CounterFamily(n, help));
        if (family is not CounterFamily counters)
            throw new InvalidOperationException($"Metric {fullName} is a {family.Type}, not a counter");
        counters.Add(Normalize(labels), amount);
    }

    /// <summary>Requests counted so far in one direction for one method.</summary>
    public long Requests(SipDirection direction, string method) =>
        Interlocked.Read(ref _requests[(direction == SipDirection.In ? 0 : 1) * Methods.Length + MethodIndex(method)]);

    /// <summary>Requests of every method counted so far in one direction.</summary>
    public long RequestsTotal(SipDirection direction)
    {
        long total = 0;
        var first = (direction == SipDirection.In ? 0 : 1) * Methods.Length;
        for (var i = 0; i < Methods.Length; i++) total += Interlocked.Read(ref _requests[first + i]);
        return total;
    }

    /// <summary>Responses counted so far in one direction for one status code and CSeq method.</summary>
    public long Responses(SipDirection direction, int statusCode, string cseqMethod) =>
        _responses.TryGetValue(new ResponseKey(direction == SipDirection.In ? 0 : 1, statusCode, MethodIndex(cseqMethod)), out var c)
            ? Interlocked.Read(ref c.Value) : 0;

    /// <summary>The current value of a named counter's series, 0 when it was never incremented.</summary>
    public long Count(string name, params ReadOnlySpan<(string Name, string Value)> labels) =>
        _families.TryGetValue(FullName(name), out var f) && f is CounterFamily counters ? counters.Get(Normalize(labels)) : 0;

    /// <summary>All metrics in the Prometheus text format 0.0.4, families sorted by name.</summary>
    public string Render()
    {
        var sb = new StringBuilder(4096);
        WriteTo(sb);
        return sb.ToString();
    }

    public void WriteTo(StringBuilder sb)
    {
        var families = _families.Values.Cast<IRenderable>().Append(new SipCounters(this)).OrderBy(f => f.Name, StringComparer.Ordinal);
        foreach (var family in families) family.WriteTo(sb);
    }

    private static int MethodIndex(string method)
    {
        for (var i = 0; i < OtherMethod; i++)
        {
            // Parsed methods are interned (SipMethods.FromBytes), so the reference test usually decides.
            if (ReferenceEquals(method, Methods[i]) || string.Equals(method, Methods[i], StringComparison.Ordinal)) return i;
        }
        return OtherMethod;
    }

    private static int CSeqMethodIndex(SipResponse response)
    {
        // The CSeq view is parsed once per message and cached; a response without a valid one still counts.
        try { return MethodIndex(response.CSeq.Method); }
        catch (SipParseException) { return OtherMethod; }
    }

    private static string FullName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var full = name.StartsWith(Prefix, StringComparison.Ordinal) ? name : Prefix + name;
        return PrometheusText.IsValidMetricName(full) ? full : throw new ArgumentException($"'{name}' is not a valid Prometheus metric name", nameof(name));
    }

    private static string NewName(string name)
    {
        var full = FullName(name);
        return full is RequestsName or ResponsesName ? throw new ArgumentException($"{full} is counted by Observe", nameof(name)) : full;
    }

    /// <summary>The label set rendered in name order, so the same labels given in any order are one series.</summary>
    private static string Normalize(ReadOnlySpan<(string Name, string Value)> labels)
    {
        if (labels.Length <= 1) return PrometheusText.Labels(labels);
        var sorted = labels.ToArray();
        Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return PrometheusText.Labels(sorted);
    }

    private readonly record struct ResponseKey(int Direction, int StatusCode, int Method);

    private sealed class Counter
    {
        public long Value;
    }

    private interface IRenderable
    {
        string Name { get; }

        void WriteTo(StringBuilder sb);
    }

    private abstract class MetricFamily(string name, string help, string type) : IRenderable
    {
        public string Name { get; } = name;

        public string Help { get; } = help;

        public string Type { get; } = type;

        public void WriteTo(StringBuilder sb)
        {
            PrometheusText.WriteHeader(sb, Name, Help, Type);
            WriteSamples(sb);
        }

        protected abstract void WriteSamples(StringBuilder sb);
    }

    private sealed class CounterFamily(string name, string help) : MetricFamily(name, help, "counter")
    {
        private readonly ConcurrentDictionary<string, Counter> _series = new(StringComparer.Ordinal);

        public void Add(string labels, long amount)
        {
            var counter = _series.GetOrAdd(labels, static _ => new Counter());
            Interlocked.Add(ref counter.Value, amount);
        }

        public long Get(string labels) => _series.TryGetValue(labels, out var c) ? Interlocked.Read(ref c.Value) : 0;

        protected override void WriteSamples(StringBuilder sb)
        {
            foreach (var (labels, counter) in _series.OrderBy(s => s.Key, StringComparer.Ordinal))
                PrometheusText.WriteSample(sb, Name, labels, Interlocked.Read(ref counter.Value));
        }
    }

    private sealed class GaugeFamily(string name, string help, Func<double> read) : MetricFamily(name, help, "gauge")
    {
        protected override void WriteSamples(StringBuilder sb)
        {
            double value;
            try { value = read(); }
            catch (Exception) { return; }   // a component that fails to answer must not break the whole scrape
            PrometheusText.WriteSample(sb, Name, "", value);
        }
    }

    private sealed class Registration(SipMetrics owner, GaugeFamily gauge) : IDisposable
    {
        public void Dispose() => owner._families.TryRemove(new KeyValuePair<string, MetricFamily>(gauge.Name, gauge));
    }

    /// <summary>The two per-message families, rendered from the fixed request array and the response map.</summary>
    private sealed class SipCounters(SipMetrics owner) : IRenderable
    {
        public string Name => RequestsName;

        public void WriteTo(StringBuilder sb)
        {
            PrometheusText.WriteHeader(sb, RequestsName, "SIP requests received (in) and sent (out) by the transport, by method, retransmissions included.", "counter");
            for (var d = 0; d < 2; d++)
            {
                for (var m = 0; m < Methods.Length; m++)
                {
                    var value = Interlocked.Read(ref owner._requests[d * Methods.Length + m]);
                    if (m == OtherMethod && value == 0) continue;
                    PrometheusText.WriteSample(sb, RequestsName, $"{{direction=\"{Direction(d)}\",method=\"{Methods[m]}\"}}", value);
                }
            }

            PrometheusText.WriteHeader(sb, ResponsesName, "SIP responses received (in) and sent (out) by the transport, by status code and CSeq method.", "counter");
            var responses = owner._responses.OrderBy(r => r.Key.Direction).ThenBy(r => r.Key.StatusCode).ThenBy(r => Methods[r.Key.Method], StringComparer.Ordinal);
            foreach (var (key, counter) in responses)
            {
                var labels = $"{{direction=\"{Direction(key.Direction)}\",code=\"{key.StatusCode}\",method=\"{Methods[key.Method]}\"}}";
                PrometheusText.WriteSample(sb, ResponsesName, labels, Interlocked.Read(ref counter.Value));
            }
        }

        private static string Direction(int d) => d == 0 ? "in" : "out";
    }
}
