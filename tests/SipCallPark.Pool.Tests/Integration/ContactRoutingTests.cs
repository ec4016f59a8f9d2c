using SipCallPark.Pool.Hosting;
using SipCallPark.Pool.Registrar;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>
/// Calls go to a binding's Contact (RFC 3261 §16.5) unless its REGISTER showed that the phone needs NAT help
/// (Pool:Registrar:NatTraversal = Auto), over real loopback UDP.
/// </summary>
public sealed class ContactRoutingTests : IntegrationTest
{
    private const string Bob = "sip:bob@callpark.lab";

    /// <summary>bob's phone that listens but never registers, and a separate tool that registers it from its own port.</summary>
    private static async Task<(LabPhone Listener, LabPhone Tool)> RegisteredByToolAsync(LabPools lab, string contactHost = "127.0.0.1")
    {
        var listener = await lab.PhoneAsync("bob", lab.A);
        var tool = await lab.PhoneAsync("bob", lab.A);
        Assert.That(tool.Contact.Port, Is.Not.EqualTo(listener.Contact.Port));
        var result = await tool.SendAsync(tool.NewRegister($"<sip:bob@{contactHost}:{listener.Contact.Port}>", 3600));
        Assert.That(result.StatusCode, Is.EqualTo(200), result.ToString());
        return (listener, tool);
    }

    private static async Task CallReachesAsync(LabPhone caller, LabPhone callee, LabPhone other)
    {
        var dialling = caller.CallAsync("bob");
        var incoming = await callee.NextIncomingAsync();
        var answered = await incoming.AnswerAsync(callee.Sdp);
        var attempt = await dialling;
        Assert.That(attempt.StatusCode, Is.EqualTo(200), attempt.ToString());
        await answered.Confirmed.WaitAsync(LabPhone.Bound);
        Assert.That(other.PendingIncoming, Is.Zero, "the call went to one place only");
        Assert.That((await attempt.Call!.HangUpAsync().WaitAsync(LabPhone.Bound))!.StatusCode, Is.EqualTo(200));
    }

    [Test]
    public async Task A_phone_registered_by_a_separate_tool_gets_its_calls_at_its_contact_not_at_the_tools_port()
    {
        var lab = await StartLabAsync();
        var (listener, tool) = await RegisteredByToolAsync(lab);
        var alice = await lab.PhoneAsync("alice", lab.A);

        await CallReachesAsync(alice, listener, tool);
    }

    [Test]
    public async Task Registrations_say_a_third_party_binding_is_reached_at_its_contact_because_no_nat_sign_was_seen()
    {
        var lab = await StartLabAsync();
        var (listener, _) = await RegisteredByToolAsync(lab);

        var dto = new PoolAdminBackend(lab.A).Registrations().Single();

        Assert.Multiple(() =>
        {
            Assert.That(dto.TargetKind, Is.EqualTo("contact"));
            Assert.That(dto.Target, Is.EqualTo($"udp:127.0.0.1:{listener.Contact.Port}"));
            Assert.That(dto.TargetReason, Is.EqualTo("no NAT sign"));
            Assert.That(dto.Source, Is.Not.EqualTo(dto.Target));
        });
    }

    [Test]
    public async Task A_contact_naming_another_address_than_the_register_came_from_does_not_redirect_calls_there()
    {
        var lab = await StartLabAsync();
        // 127.0.0.2 is not where the tool is: the pool must not be turned against another host by a Contact.
        var (listener, tool) = await RegisteredByToolAsync(lab, contactHost: "127.0.0.2");
        var alice = await lab.PhoneAsync("alice", lab.A);

        Assert.That(lab.A.Bindings.Get(Bob, lab.Time.GetUtcNow()).Single().Nat, Is.EqualTo(NatSigns.ContactAddress));
        await CallReachesAsync(alice, tool, listener);
    }

    [Test]
    public async Task The_nat_signs_of_a_binding_survive_a_restart_and_its_calls_still_go_to_the_contact()
    {
        var lab = await StartLabAsync(persistent: true);
        var (listener, tool) = await RegisteredByToolAsync(lab);

        await lab.RestartAAsync();

        Assert.That(lab.A.Bindings.Get(Bob, lab.Time.GetUtcNow()).Single().Nat, Is.EqualTo(NatSigns.None));
        var alice = await lab.PhoneAsync("alice", lab.A);
        await CallReachesAsync(alice, listener, tool);
    }

    [Test]
    public async Task The_nat_signs_of_a_binding_reach_the_backup_and_survive_its_restart()
    {
        var lab = await StartLabAsync(bothPools: true, replication: true);
        await RegisteredByToolAsync(lab, contactHost: "127.0.0.2");

        await WaitUntilAsync(() => lab.B!.Replicas.Get(Bob, lab.Time.GetUtcNow()).Count == 1);
        Assert.That(lab.B!.Replicas.Get(Bob, lab.Time.GetUtcNow()).Single().Nat, Is.EqualTo(NatSigns.ContactAddress));

        await lab.StopBAsync();
        await lab.StartBAsync();

        Assert.That(lab.B!.Replicas.Get(Bob, lab.Time.GetUtcNow()).Single().Nat, Is.EqualTo(NatSigns.ContactAddress));
    }
}
