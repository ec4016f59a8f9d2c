using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.RateLimiting;

namespace SipCallPark.Pool.Tests.RateLimiting;

public class SourceRateLimiterTests
{
    private static readonly IPAddress Phone = IPAddress.Parse("192.0.2.7");
    private static readonly IPAddress Other = IPAddress.Parse("192.0.2.8");

    private FakeTimeProvider _time = null!;
    private WarningLog<SourceRateLimiter> _log = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 8, 0, 0, TimeSpan.Zero));
        _log = new WarningLog<SourceRateLimiter>();
    }

    private SourceRateLimiter Limiter(int perSecond = 10, int burst = 5, int maxSources = 100) =>
        new(new RateLimitOptions { RequestsPerSecond = perSecond, Burst = burst, MaxSources = maxSources, WarningInterval = TimeSpan.FromMinutes(1) }, _time, _log);

    private static int Admitted(SourceRateLimiter limiter, IPAddress source, int tries) =>
        Enumerable.Range(0, tries).Count(_ => limiter.TryAcquire(source));

    [Test]
    public void A_source_gets_its_burst_at_once_and_then_is_refused()
    {
        var limiter = Limiter(perSecond: 10, burst: 5);

        Assert.That(Admitted(limiter, Phone, 8), Is.EqualTo(5));
        Assert.That(limiter.TryAcquire(Phone), Is.False);
    }

    [Test]
    public void The_bucket_refills_at_the_configured_rate_on_the_pool_clock()
    {
        var limiter = Limiter(perSecond: 10, burst: 5);
        Admitted(limiter, Phone, 5);

        _time.Advance(TimeSpan.FromMilliseconds(300));
        Assert.That(Admitted(limiter, Phone, 10), Is.EqualTo(3), "10/s for 0.3 s");

        _time.Advance(TimeSpan.FromHours(1));
        Assert.That(Admitted(limiter, Phone, 10), Is.EqualTo(5), "never more than the burst");
    }

    [Test]
    public void Sources_have_their_own_buckets_and_an_IPv4_mapped_address_is_the_same_source()
    {
        var limiter = Limiter(perSecond: 1, burst: 2);
        Admitted(limiter, Phone, 2);

        Assert.Multiple(() =>
        {
            Assert.That(limiter.TryAcquire(Other), Is.True, "another source is not held back");
            Assert.That(limiter.TryAcquire(Phone.MapToIPv6()), Is.False, "the same phone over an IPv6 socket");
        });
    }

    [Test]
    public void Refusals_log_one_warning_per_source_per_interval_with_the_count_refused()
    {
        var limiter = Limiter(perSecond: 1, burst: 1);
        Admitted(limiter, Phone, 1 + 50);
        Admitted(limiter, Other, 1 + 3);
        Assert.That(_log.Lines, Has.Count.EqualTo(2), string.Join("\n", _log.Lines));
        Assert.That(_log.Lines[0], Does.Contain("192.0.2.7").And.Contain("503").And.Contain("(1 refused"));

        _time.Advance(TimeSpan.FromSeconds(59));
        Admitted(limiter, Phone, 100);
        Assert.That(_log.Lines, Has.Count.EqualTo(2), "still within the interval");

        _time.Advance(TimeSpan.FromSeconds(2));
        Admitted(limiter, Phone, 1 + 1);
        Assert.That(_log.Lines, Has.Count.EqualTo(3));
        Assert.That(_log.Lines[2], Does.Contain("192.0.2.7").And.Contain("(149 refused"),
            "49 after the first line, 99 and 1 more: every refusal since the last line");
    }

    [Test]
    public void Beyond_MaxSources_the_buckets_that_refilled_are_forgotten()
    {
        var limiter = Limiter(perSecond: 10, burst: 2, maxSources: 3);
        for (var i = 1; i <= 3; i++) limiter.TryAcquire(IPAddress.Parse($"198.51.100.{i}"));
        Admitted(limiter, IPAddress.Parse("198.51.100.1"), 2);   // this one is still short of tokens
        _time.Advance(TimeSpan.FromMilliseconds(150));             // the others refill (one token in 0.1 s)

        Assert.That(limiter.TryAcquire(Other), Is.True);
        Assert.That(limiter.TrackedSources, Is.EqualTo(2), "198.51.100.1 (not refilled) and the newcomer");
    }

    [TestCase(0, 5, "Pool:RateLimit:RequestsPerSecond")]
    [TestCase(10, 0, "Pool:RateLimit:Burst")]
    public void Out_of_range_options_name_their_key(int perSecond, int burst, string key)
    {
        var error = Assert.Throws<OptionsValidationError>(() =>
            new RateLimitOptions { RequestsPerSecond = perSecond, Burst = burst }.Validate("Pool:RateLimit"));
        Assert.That(error!.Key, Is.EqualTo(key));
    }

    [Test]
    public void The_defaults_admit_a_benchmark_of_2000_requests_per_second_from_one_address()
    {
        var limiter = new SourceRateLimiter(new RateLimitOptions(), _time, _log);
        var admitted = 0;
        for (var ms = 0; ms < 10_000; ms++)
        {
            admitted += Admitted(limiter, Phone, 2);
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }
        Assert.That(admitted, Is.EqualTo(20_000));
    }
}
