using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Resiliency;

namespace SipCallPark.Pool.Tests.Resiliency;

public class HealthMonitorTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(200);
    private FakeTimeProvider _time = null!;
    private List<(bool Up, DateTimeOffset At)> _changes = null!;
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
        _changes = [];
        _load = new SettableLoad();
    }

    /// <summary>A probe the fake partner answers after <paramref name="answerAfter"/>, or gives up on at Timer F (32 s) when null.</summary>
    private Task<bool> FakeProbe(TimeSpan? answerAfter)
    {
        var outcome = new TaskCompletionSource<bool>();
        _time.CreateTimer(_ => outcome.TrySetResult(answerAfter is not null), null, answerAfter ?? TimeSpan.FromSeconds(32), Timeout.InfiniteTimeSpan);
        return outcome.Task;
    }

    private HealthMonitor Start(Func<TimeSpan?> partner, ILogger? logger = null, bool presumedHealthy = true)
    {
        var monitor = new HealthMonitor("pool-b", new HealthMonitorOptions(), _ => FakeProbe(partner()), _load, _time, logger ?? NullLogger.Instance, presumedHealthy);
        monitor.HealthChanged += up => _changes.Add((up, _time.GetUtcNow()));
        monitor.Start();
        return monitor;
    }

    private void Run(TimeSpan duration)
    {
        for (var elapsed = TimeSpan.Zero; elapsed < duration; elapsed += TimeSpan.FromMilliseconds(50)) _time.Advance(TimeSpan.FromMilliseconds(50));
    }

    [Test]
    public void The_shipped_defaults_probe_every_200_ms_and_declare_the_partner_down_after_1_4_s_without_an_answer()
    {
        var options = new HealthMonitorOptions();
        Assert.That((options.Interval, options.DownAfter, options.SuccessesToUp), Is.EqualTo((Tick, TimeSpan.FromMilliseconds(1400), 3)));
    }

    [Test]
    public void Probes_do_not_wait_for_each_other_a_new_one_leaves_every_interval_while_earlier_ones_are_unanswered()
    {
        using var monitor = Start(() => null);
        Run(TimeSpan.FromMilliseconds(1050));
        Assert.That(monitor.Outstanding, Is.EqualTo(6), "probes at 0, 200, ..., 1000 ms are all still being retransmitted");
    }

    [Test]
    public void A_partner_that_dies_is_down_between_DownAfter_and_DownAfter_plus_one_interval_after_its_last_answer()
    {
        var alive = true;
        using var monitor = Start(() => alive ? TimeSpan.FromMilliseconds(1) : null);
        Run(TimeSpan.FromSeconds(5));
        alive = false;
        Run(TimeSpan.FromSeconds(5));
        Assert.That(_changes.Select(c => c.Up), Is.EqualTo(new[] { false }));
        var silence = _changes[0].At - monitor.LastAnswer!.Value;
        Assert.That(silence, Is.InRange(TimeSpan.FromMilliseconds(1400), TimeSpan.FromMilliseconds(1600)));
    }

    [Test]
    public void Probes_answered_only_by_their_retransmissions_keep_the_partner_up()
    {
        // Every probe's first transmission is lost; its retransmission (Timer E, 500 ms later) is answered.
        using var monitor = Start(() => TimeSpan.FromMilliseconds(501));
        Run(TimeSpan.FromSeconds(30));
        Assert.That(_changes, Is.Empty);
        Assert.That(monitor.IsHealthy, Is.True);
    }

    [Test]
    public void Ten_percent_loss_each_way_fakes_no_outage_in_24_simulated_hours()
    {
        // Each transmission of a probe (RFC 3261 Timer E from T1 = 500 ms: at 0, 0.5, 1.5, 3.5, 7.5 s, then every
        // T2 = 4 s until Timer F at 32 s) comes back with probability 0.9 × 0.9; the answer is the first that does.
        var random = new Random(20261207);
        var lateAnswers = 0;
        TimeSpan? Lossy()
        {
            for (var (at, gap) = (TimeSpan.Zero, TimeSpan.FromMilliseconds(500)); at < TimeSpan.FromSeconds(32); at += gap, gap = TimeSpan.FromTicks(Math.Min(gap.Ticks * 2, TimeSpan.FromSeconds(4).Ticks)))
            {
                if (random.NextDouble() < 0.81)
                {
                    if (at > TimeSpan.Zero) lateAnswers++;
                    return at + TimeSpan.FromMilliseconds(1);
                }
            }
            return null;
        }
        using var monitor = Start(Lossy);
        for (var i = 0; i < 24 * 3600 * 5; i++) _time.Advance(Tick);
        Assert.That(lateAnswers, Is.GreaterThan(24 * 3600 * 5 / 10), "the link lost probes, so retransmissions answered many of them");
        Assert.That(_changes, Is.Empty, "no false outage");
    }

    [Test]
    public void A_tick_that_comes_late_because_this_pool_was_starved_gives_no_verdict_the_next_one_does()
    {
        using var monitor = new HealthMonitor("pool-b", new HealthMonitorOptions(), _ => FakeProbe(null), _load, _time, NullLogger.Instance);
        monitor.HealthChanged += up => _changes.Add((up, _time.GetUtcNow()));
        for (var i = 0; i < 7; i++)
        {
            monitor.Tick();
            _time.Advance(Tick);
        }
        _time.Advance(TimeSpan.FromSeconds(1)); // this pool's timer was starved: its answers may be waiting unread
        monitor.Tick();
        Assert.That(_changes, Is.Empty);
        _time.Advance(Tick);
        monitor.Tick();
        Assert.That(_changes.Select(c => c.Up), Is.EqualTo(new[] { false }));
    }

    [Test]
    public void A_silence_while_this_pool_is_behind_on_its_own_traffic_is_not_blamed_on_the_partner()
    {
        var alive = true;
        using var monitor = Start(() => alive ? TimeSpan.FromMilliseconds(1) : null);
        Run(TimeSpan.FromSeconds(2));
        alive = false;
        _load.IsKeepingUp = false; // shedding load: the partner's answers may be waiting unread
        Run(TimeSpan.FromSeconds(5));
        Assert.That(_changes, Is.Empty, "no verdict while this pool is behind");
        _load.IsKeepingUp = true;
        Run(TimeSpan.FromMilliseconds(400));
        Assert.That(_changes.Select(c => c.Up), Is.EqualTo(new[] { false }), "a partner still silent once this pool keeps up again is down");
    }

    [Test]
    public void A_partner_presumed_down_is_reported_up_after_three_answers()
    {
        using var monitor = Start(() => TimeSpan.FromMilliseconds(1), presumedHealthy: false);
        Assert.That(monitor.IsHealthy, Is.False);
        Run(TimeSpan.FromMilliseconds(450));
        Assert.That(_changes.Select(c => c.Up), Is.EqualTo(new[] { true }));
    }

    [Test]
    public void An_outage_is_logged_once_however_long_it_lasts_and_its_unanswered_probes_only_at_Debug()
    {
        var log = new LevelLog();
        var alive = true;
        using var monitor = Start(() => alive ? TimeSpan.FromMilliseconds(1) : null, log);
        Run(TimeSpan.FromSeconds(2));
        alive = false;
        Run(TimeSpan.FromSeconds(120));
        Assert.That(log.Lines.Where(l => l.Level >= LogLevel.Information).Select(l => l.Level), Is.EqualTo(new[] { LogLevel.Error }));
        Assert.That(log.Lines.Count(l => l.Level == LogLevel.Debug), Is.GreaterThan(100), "each probe that got no answer is still logged at Debug");
    }

    [Test]
    public void The_options_refuse_the_removed_keys_and_a_DownAfter_shorter_than_three_intervals_naming_the_key()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => new HealthMonitorOptions { FailuresToDown = 3 }.Validate("Pool:Health"),
                Throws.TypeOf<OptionsValidationError>().With.Property("Key").EqualTo("Pool:Health:FailuresToDown").And.Message.Contains("DownAfter"));
            Assert.That(() => new HealthMonitorOptions { ProbeTimeout = TimeSpan.FromMilliseconds(500) }.Validate("Pool:Health"),
                Throws.TypeOf<OptionsValidationError>().With.Property("Key").EqualTo("Pool:Health:ProbeTimeout"));
            Assert.That(() => new HealthMonitorOptions { DownAfter = TimeSpan.FromMilliseconds(500) }.Validate("Pool:Health"),
                Throws.TypeOf<OptionsValidationError>().With.Property("Key").EqualTo("Pool:Health:DownAfter"));
            Assert.That(() => new HealthMonitorOptions().Validate("Pool:Health"), Throws.Nothing);
        });
    }

    private sealed class LevelLog : ILogger
    {
        public List<(LogLevel Level, string Text)> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add((logLevel, formatter(state, exception)));
    }
}
