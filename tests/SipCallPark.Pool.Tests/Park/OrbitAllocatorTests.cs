using SipCallPark.Pool.Park;
using SipCallPark.Pool.Topology;

namespace SipCallPark.Pool.Tests.Park;

public class OrbitAllocatorTests
{
    private static OrbitRange Range(string text) => OrbitRange.TryParse(text, out var r, out _) ? r : throw new ArgumentException(text);

    [Test]
    public void Lowest_assignment_hands_out_orbits_in_order_and_reuses_a_released_one()
    {
        var allocator = new OrbitAllocator([Range("7000-7002")], OrbitAssignment.Lowest, new Random(1));
        var taken = new List<string>();
        while (allocator.TryAllocate(out var orbit)) taken.Add(orbit);
        Assert.That(taken, Is.EqualTo(new[] { "7000", "7001", "7002" }));
        allocator.Release("7001");
        Assert.That(allocator.TryAllocate(out var again), Is.True);
        Assert.That(again, Is.EqualTo("7001"));
    }

    [Test]
    public void Random_assignment_never_gives_one_orbit_twice_and_stops_when_all_are_taken()
    {
        var allocator = new OrbitAllocator([Range("7100-7149"), Range("*10-*19")], OrbitAssignment.Random, new Random(42));
        var taken = new HashSet<string>();
        while (allocator.TryAllocate(out var orbit)) Assert.That(taken.Add(orbit), Is.True, $"{orbit} handed out twice");
        Assert.That(taken, Has.Count.EqualTo(60));
        Assert.That(allocator.InUse, Is.EqualTo(60));
    }

    [Test]
    public void A_directed_park_takes_a_free_orbit_of_ours_only()
    {
        var allocator = new OrbitAllocator([Range("7000-7099")], OrbitAssignment.Lowest, new Random(1));
        Assert.That(allocator.TryTake("7050"), Is.True);
        Assert.That(allocator.TryTake("7050"), Is.False);
        Assert.That(allocator.TryTake("7150"), Is.False);
    }

    [Test]
    public void Concurrent_allocations_never_share_an_orbit()
    {
        var allocator = new OrbitAllocator([Range("7000-7999")], OrbitAssignment.Random, new Random(7));
        var results = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 1000, _ => { if (allocator.TryAllocate(out var o)) results.Add(o); });
        Assert.That(results.Distinct().Count(), Is.EqualTo(1000));
    }
}
