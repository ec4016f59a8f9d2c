using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.State;

namespace SipCallPark.Pool.Tests.Replication;

/// <summary>Bindings and park dialogs as a pool replicates them, with instants in whole milliseconds (as stored).</summary>
internal static class ReplicaSamples
{
    public static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_760_000_000_000);

    public static Binding Binding(string user, string pool = "pool-a", int port = 5070, DateTimeOffset? expires = null) =>
        new($"sip:{user}@callpark.lab", $"<sip:{user}@127.0.0.1:{port}>", expires ?? Now.AddHours(1), 1.0, $"reg-{user}-{port}", 3,
            $"\"<urn:uuid:{user}>\"", "1", $"udp:127.0.0.1:{port}", RegistrationMode.Normal, pool);

    public static ParkedDialogRecord ParkRecord(string orbit, string pool = "pool-a", ParkedDialogState state = ParkedDialogState.Parked) =>
        new(orbit, pool, $"call-{orbit}@10.0.0.5", "pooltag1", "bobtag9",
            $"<sip:{orbit}@callpark.lab>", "\"Bob\" <sip:bob@callpark.lab>", "sip:bob@10.0.0.9:5080;transport=udp",
            ["<sip:edge1.callpark.lab;lr>"], 4, "\"Bob\" <sip:bob@callpark.lab>", "sip:alice@callpark.lab",
            Now.AddSeconds(-5), Now.AddSeconds(85), 0, state);
}
