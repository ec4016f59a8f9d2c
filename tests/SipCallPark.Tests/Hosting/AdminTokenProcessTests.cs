using System.Net;
using System.Net.Http.Headers;

namespace SipCallPark.Tests.Hosting;

/// <summary>The admin API's bearer token on the real executable (docs/design.md §8): required beyond loopback, enforced when set.</summary>
[Platform("Linux")]
[NonParallelizable]
public class AdminTokenProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    [Test]
    public async Task An_admin_url_beyond_loopback_without_a_token_stops_the_pool_with_exit_code_2_naming_Pool_Admin_Token()
    {
        using var setup = new ParkPoolSetup();
        // 192.0.2.0/24 is documentation space: the pool must refuse before it tries to bind there.
        using var pool = setup.Start("--Pool:Admin:Url=http://192.0.2.10:8060");

        var exitCode = await pool.WaitForExitAsync(StartTimeout);

        Assert.That(exitCode, Is.EqualTo(2), pool.Output + pool.Error);
        Assert.That(pool.Error.Trim(), Does.StartWith("Configuration error: Pool:Admin:Token must be set when Pool:Admin:Url is not on a loopback host"));
    }

    [Test]
    public async Task With_Pool_Admin_Token_set_a_request_without_it_gets_401_and_with_it_200()
    {
        using var setup = new ParkPoolSetup();
        using var pool = setup.Start("--Pool:Admin:Token=lab-token-0123");
        Assert.That(await pool.WaitUntilStartedAsync(StartTimeout), Is.True, pool.Output + pool.Error);
        using var http = new HttpClient { BaseAddress = setup.AdminUrl, Timeout = TimeSpan.FromSeconds(10) };

        using var without = await http.GetAsync("/status");
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/status") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "guess") } };
        using var wrongAnswer = await http.SendAsync(wrong);
        using var right = new HttpRequestMessage(HttpMethod.Get, "/status") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "lab-token-0123") } };
        using var rightAnswer = await http.SendAsync(right);

        Assert.Multiple(() =>
        {
            Assert.That(without.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(without.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Bearer"));
            Assert.That(wrongAnswer.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(rightAnswer.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(pool.Output, Does.Contain("(token required)"));
        });
    }
}
