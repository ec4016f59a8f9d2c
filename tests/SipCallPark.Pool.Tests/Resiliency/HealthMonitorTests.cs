using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Resiliency;

namespace SipCallPark.Pool.Tests.Resiliency;

public class HealthMonitorTests
{
    private FakeTimeProvider _time = null!;
    private Queue<bool> _answers = null!;
    private List<bool> _changes = null!;
    private SettableLoad _load = null!;

    /// <summary>This pool's own load as the test sets it.</summary>
    private sealed class SettableLoad : IPoolLoad
    {
        public bool IsKeepingUp { get; set; } = true;
    }

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider();
        _answers = new Queue<bool>();
        _changes = [];
        _load = new SettableLoad();
    }

    private HealthMonitor Create()
    {
        var monitor = new HealthMonitor("pool-b", new HealthMonitorOptions(), async ct =>
        {
            var answer = _answers.Count == 0 || _answers.Dequeue();
            if (!answer) await Task.Delay(TimeSpan.FromSeconds(10), _time, ct); // a probe nobody answers hangs until the timeout
            return answer;
        }, _load, _time, NullLogger.Instance);
        monitor.HealthChanged += _changes.Add;
        return monitor;
    }

    private async Task Probe(HealthMonitor monitor)
    {
        var probe = monitor.ProbeOnceAsync(CancellationToken.None);
        // An unanswered probe ends when Polly's 500 ms timeout fires on the fake clock.
        for (var i = 0; i < 100 && !probe.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.WhenAny(probe, Task.Delay(10));
        }
        await probe.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Test]
    public async Task Two_misses_are_not_an_outage_but_three_in_a_row_are()
    {
        var monitor = Create();
        foreach (var a in new[] { false, false, true, false, false }) _answers.Enqueue(a);
        for (var i = 0; i < 5; i++) await Probe(monitor);
        Assert.That(monitor.IsHealthy, Is.True);
        _answers.Enqueue(false);
        await Probe(monitor);
        Assert.That(monitor.IsHealthy, Is.False);
        Assert.That(_changes, Is.EqualTo(new[] { false }));
    }

    [Test]
    public async Task A_down_partner_comes_back_only_after_three_answers_in_a_row()
    {
        var monitor = Create();
        foreach (var a in new[] { false, false, false, true, true, false, true, true }) _answers.Enqueue(a);
        for (var i = 0; i < 8; i++) await Probe(monitor);
        Assert.That(monitor.IsHealthy, Is.False);
        _answers.Enqueue(true);
        await Probe(monitor);
        Assert.That(monitor.IsHealthy, Is.True);
        Assert.That(_changes, Is.EqualTo(new[] { false, true }));
    }

    [Test]
    public async Task A_probe_that_hangs_counts_as_a_miss_after_the_probe_timeout()
    {
        var monitor = Create();
        _answers.Enqueue(false);
        var started = _time.GetUtcNow();
        await Probe(monitor);
        Assert.That(monitor.ConsecutiveFailures, Is.EqualTo(1));
        Assert.That(_time.GetUtcNow() - started, Is.LessThan(TimeSpan.FromSeconds(1)));
    }

    [Test]
    public async Task Probes_missed_while_this_pool_is_behind_do_not_count_against_the_partner()
    {
        var monitor = Create();
        foreach (var a in new[] { false, false, false, false }) _answers.Enqueue(a);
        _load.IsKeepingUp = false;
        for (var i = 0; i < 4; i++) await Probe(monitor);
        Assert.That(monitor.IsHealthy, Is.True, "four misses while overloaded");
        Assert.That(monitor.ConsecutiveFailures, Is.Zero);

        _load.IsKeepingUp = true;
        foreach (var a in new[] { false, false, false }) _answers.Enqueue(a);
        for (var i = 0; i < 3; i++) await Probe(monitor);
        Assert.That(monitor.IsHealthy, Is.False, "three misses while keeping up");
        Assert.That(_changes, Is.EqualTo(new[] { false }));
    }
}
