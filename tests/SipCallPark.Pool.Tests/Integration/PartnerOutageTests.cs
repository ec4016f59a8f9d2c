using SipCallPark.Pool.Resiliency;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>The backup's view of its partner: outage detection, resiliency mode, operator failover (docs/design.md §7).</summary>
public class PartnerOutageTests : IntegrationTest
{
    private static async Task WaitForPhase(DrStateMachine machine, DrPhase phase)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        machine.Changed += t => { if (t.To == phase) reached.TrySetResult(); };
        if (machine.Phase == phase) return;
        await reached.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task When_the_partner_dies_its_users_register_at_the_backup_in_resiliency_mode_and_normally_after_failover()
    {
        var lab = await StartLabAsync(bothPools: true);
        var watch = lab.A.DrMachineOf("pool-b")!;
        Assert.That(watch.Phase, Is.EqualTo(DrPhase.Normal));
        var erin = await lab.PhoneAsync("erin", lab.A);
        Assert.That((await erin.RegisterAsync()).StatusCode, Is.EqualTo(301), "pool-b is healthy: erin is sent home");

        await lab.B!.DisposeAsync();
        await WaitForPhase(watch, DrPhase.Outage);

        var inOutage = await erin.RegisterAsync();
        Assert.Multiple(() =>
        {
            Assert.That(inOutage.StatusCode, Is.EqualTo(200), inOutage.ToString());
            Assert.That(inOutage.Response!.Headers.Get("X-Registration-Mode"), Is.EqualTo("resiliency"));
            Assert.That(inOutage.Response.Headers.Get(HeaderNames.Warning), Is.EqualTo("399 pool-a \"Resiliency mode: limited functionality\""));
            Assert.That(watch.Failback().Accepted, Is.False, "no failback from Outage");
        });

        Assert.That(watch.Failover().Accepted, Is.True);
        await WaitForPhase(watch, DrPhase.FailedOver);
        var failedOver = await erin.RegisterAsync();
        Assert.That(failedOver.StatusCode, Is.EqualTo(200), failedOver.ToString());
        Assert.That(failedOver.Response!.Headers.Get("X-Registration-Mode"), Is.EqualTo("normal"));
        var failback = watch.Failback();
        Assert.That(failback.Accepted, Is.False, "pool-b is still down");
        Assert.That(failback.Message, Does.Contain("down"));
    }
}
