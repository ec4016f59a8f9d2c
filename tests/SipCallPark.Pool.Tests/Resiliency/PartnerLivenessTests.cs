using SipCallPark.Pool.Resiliency;

namespace SipCallPark.Pool.Tests.Resiliency;

public class PartnerLivenessTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly HealthMonitorOptions Options = new() { Interval = TimeSpan.FromMilliseconds(200), DownAfter = TimeSpan.FromMilliseconds(1400), SuccessesToUp = 3 };

    private static DateTimeOffset At(int ms) => T0.AddMilliseconds(ms);

    private static void SendProbes(PartnerLiveness liveness, int count)
    {
        for (var i = 0; i < count; i++) liveness.ProbeSent();
    }

    [Test]
    public void A_partner_silent_for_less_than_DownAfter_is_still_up()
    {
        var liveness = new PartnerLiveness(Options, T0, presumedHealthy: true);
        SendProbes(liveness, 7);
        Assert.That(liveness.Check(At(1399)), Is.False);
        Assert.That(liveness.IsHealthy, Is.True);
    }

    [Test]
    public void A_partner_silent_for_DownAfter_while_probes_went_out_is_down_once()
    {
        var liveness = new PartnerLiveness(Options, T0, presumedHealthy: true);
        SendProbes(liveness, 7);
        Assert.That(liveness.Check(At(1400)), Is.True);
        Assert.That(liveness.IsHealthy, Is.False);
        Assert.That(liveness.Check(At(5000)), Is.False, "the outage is reported once");
    }

    [Test]
    public void One_answer_anywhere_in_the_window_keeps_the_partner_up_however_many_probes_were_lost()
    {
        var liveness = new PartnerLiveness(Options, T0, presumedHealthy: true);
        SendProbes(liveness, 6);
        liveness.Answered(At(0), At(1200)); // the first probe, answered by its third transmission
        SendProbes(liveness, 6);
        Assert.That(liveness.Check(At(2599)), Is.False);
        Assert.That(liveness.Check(At(2600)), Is.True);
    }

    [Test]
    public void A_silence_in_which_this_pool_itself_fell_behind_with_its_probes_is_not_blamed_on_the_partner()
    {
        var liveness = new PartnerLiveness(Options, T0, presumedHealthy: true);
        SendProbes(liveness, 5); // 1.4 s at one every 200 ms is 6 after the first interval: this pool's timer was starved
        Assert.That(liveness.Check(At(1500)), Is.False);
        liveness.ProbeSent();
        Assert.That(liveness.Check(At(1600)), Is.True);
    }

    [Test]
    public void A_long_silence_over_which_this_pool_sent_a_probe_only_every_other_interval_is_not_blamed_on_the_partner()
    {
        var liveness = new PartnerLiveness(Options, T0, presumedHealthy: true);
        SendProbes(liveness, 6); // 2.5 s at one every 200 ms would be 11: this pool was starved most of the time
        Assert.That(liveness.Check(At(2500)), Is.False);
        SendProbes(liveness, 2);
        Assert.That(liveness.Check(At(2600)), Is.True);
    }

    [Test]
    public void A_partner_found_down_is_back_after_SuccessesToUp_answers_and_not_before()
    {
        var liveness = new PartnerLiveness(Options, T0, presumedHealthy: true);
        SendProbes(liveness, 7);
        liveness.Check(At(1400));
        Assert.That(liveness.Answered(At(3000), At(3001)), Is.False);
        Assert.That(liveness.Answered(At(3200), At(3201)), Is.False);
        Assert.That(liveness.Answered(At(3400), At(3401)), Is.True);
        Assert.That(liveness.IsHealthy, Is.True);
    }

    [Test]
    public void A_probe_given_up_after_the_row_began_breaks_the_row_but_an_older_one_does_not()
    {
        var liveness = new PartnerLiveness(Options, T0, presumedHealthy: false);
        liveness.Answered(At(3000), At(3001));
        liveness.GaveUp(At(2800)); // sent before the row began: says nothing of now
        liveness.Answered(At(3200), At(3201));
        liveness.GaveUp(At(3100)); // sent inside the row and never answered: the partner is not reliably back
        Assert.That(liveness.Answered(At(3400), At(3401)), Is.False);
        Assert.That(liveness.Answered(At(3600), At(3601)), Is.False);
        Assert.That(liveness.Answered(At(3800), At(3801)), Is.True);
    }

    [Test]
    public void A_partner_presumed_down_at_start_is_back_on_its_answers_and_is_not_reported_down_again()
    {
        var liveness = new PartnerLiveness(Options, T0, presumedHealthy: false);
        SendProbes(liveness, 20);
        Assert.That(liveness.Check(At(10_000)), Is.False, "already down: no second outage");
        liveness.Answered(At(10_000), At(10_001));
        liveness.Answered(At(10_200), At(10_201));
        Assert.That(liveness.Answered(At(10_400), At(10_401)), Is.True);
    }
}
