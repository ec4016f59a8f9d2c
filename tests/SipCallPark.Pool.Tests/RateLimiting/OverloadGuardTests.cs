using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.RateLimiting;

namespace SipCallPark.Pool.Tests.RateLimiting;

public class OverloadGuardTests
{
    private FakeTimeProvider _time = null!;
    private WarningLog<OverloadGuard> _log = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 8, 0, 0, TimeSpan.Zero));
        _log = new WarningLog<OverloadGuard>();
    }

    private OverloadGuard Guard(int maxInFlight = 100, int maxQueueDelayMs = 300) =>
        new(new OverloadOptions { MaxInFlight = maxInFlight, MaxQueueDelay = TimeSpan.FromMilliseconds(maxQueueDelayMs), WarningInterval = TimeSpan.FromSeconds(10) },
            _time, _log);

    [Test]
    public void A_request_handled_promptly_is_admitted_and_counted_in_flight_until_it_exits()
    {
        var guard = Guard();

        Assert.That(guard.Enter(_time.GetUtcNow(), mayRefuse: true), Is.EqualTo(OverloadReason.None));
        Assert.That(guard.InFlight, Is.EqualTo(1));
        guard.Exit();
        Assert.That(guard.InFlight, Is.Zero);
        Assert.That(guard.Refused, Is.Zero);
    }

    [Test]
    public void A_request_that_waited_longer_than_the_queue_delay_is_refused()
    {
        var guard = Guard(maxQueueDelayMs: 300);
        var arrived = _time.GetUtcNow();

        _time.Advance(TimeSpan.FromMilliseconds(300));
        Assert.That(guard.Enter(arrived, mayRefuse: true), Is.EqualTo(OverloadReason.None), "exactly the limit is still admitted");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(guard.Enter(arrived, mayRefuse: true), Is.EqualTo(OverloadReason.QueueDelay));
        Assert.That(guard.Refused, Is.EqualTo(1));
    }

    [Test]
    public void Beyond_the_in_flight_limit_new_requests_are_refused_until_one_exits()
    {
        var guard = Guard(maxInFlight: 2);
        var now = _time.GetUtcNow();
        guard.Enter(now, mayRefuse: true);
        guard.Enter(now, mayRefuse: true);

        Assert.That(guard.Enter(now, mayRefuse: true), Is.EqualTo(OverloadReason.InFlight));
        guard.Exit(); // the refused one is done
        guard.Exit(); // one of the admitted is done
        Assert.That(guard.Enter(now, mayRefuse: true), Is.EqualTo(OverloadReason.None));
        Assert.That(guard.InFlight, Is.EqualTo(2));
    }

    [Test]
    public void A_request_that_may_not_be_refused_is_admitted_however_late_and_still_counted()
    {
        var guard = Guard(maxInFlight: 1);
        var arrived = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.That(guard.Enter(arrived, mayRefuse: false), Is.EqualTo(OverloadReason.None));
        Assert.That(guard.Enter(arrived, mayRefuse: false), Is.EqualTo(OverloadReason.None));
        Assert.That(guard.InFlight, Is.EqualTo(2));
        Assert.That(guard.Enter(_time.GetUtcNow(), mayRefuse: true), Is.EqualTo(OverloadReason.InFlight), "the in-dialog work fills the pool too");
    }

    [Test]
    public void One_warning_per_interval_carries_the_count_refused_meanwhile()
    {
        var guard = Guard(maxQueueDelayMs: 100);
        var stale = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromSeconds(1));

        for (var i = 0; i < 5; i++) guard.Enter(stale, mayRefuse: true);
        Assert.That(_log.Lines, Has.Count.EqualTo(1), "the first refusal warns at once");
        Assert.That(_log.Lines[0], Does.Contain("QueueDelay").And.Contain("waited 1000 ms"));

        _time.Advance(TimeSpan.FromSeconds(10));
        guard.Enter(stale, mayRefuse: true);
        Assert.That(_log.Lines, Has.Count.EqualTo(2));
        Assert.That(_log.Lines[1], Does.Contain("5 refused"), "the four held back and this one");
        Assert.That(guard.Refused, Is.EqualTo(6));
    }

    [TestCase(5, 100, 2, "Pool:Overload:MaxQueueDelay")]
    [TestCase(300, 0, 2, "Pool:Overload:MaxInFlight")]
    [TestCase(300, 100, 0, "Pool:Overload:RetryAfter")]
    public void Bad_options_name_their_key(int queueDelayMs, int maxInFlight, int retryAfterSeconds, string key)
    {
        var options = new OverloadOptions
        {
            MaxQueueDelay = TimeSpan.FromMilliseconds(queueDelayMs),
            MaxInFlight = maxInFlight,
            RetryAfter = TimeSpan.FromSeconds(retryAfterSeconds),
        };
        var error = Assert.Throws<OptionsValidationError>(() => options.Validate("Pool:Overload"));
        Assert.That(error!.Key, Is.EqualTo(key));
    }
}
