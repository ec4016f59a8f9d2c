using SipCallPark.Pool.State;

namespace SipCallPark.Pool.Tests.State;

/// <summary>Bridged calls as the park app journals them, with instants in whole milliseconds (as stored).</summary>
internal static class BridgeSamples
{
    public static readonly DateTimeOffset Since = DateTimeOffset.FromUnixTimeMilliseconds(1_760_000_000_456);

    public static BridgedCallRecord Bridge(string id = "bob-park-1@10.0.0.9", string pool = "pool-a", string orbit = "7000", long parkedCSeq = 3,
        long retrieverCSeq = 0) =>
        new(pool, id, orbit, Since,
            new BridgeLegRecord(id, "pooltag1", "bobtag9", $"<sip:{orbit}@callpark.lab>", "\"Bob\" <sip:bob@callpark.lab>",
                "sip:bob@10.0.0.9:5080;transport=udp", ["<sip:edge1.callpark.lab;lr>"], parkedCSeq, IsUac: false),
            new BridgeLegRecord($"dave-{id}", "pooltag2", "davetag4", $"<sip:{orbit}@callpark.lab>", "<sip:dave@callpark.lab>",
                "sip:dave@10.0.0.8:5090", [], retrieverCSeq, IsUac: false));
}
