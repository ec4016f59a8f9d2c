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
    [Test]
    public void Random_assignment_finds_the_last_free_orbit_of_an_almost_full_pool()
    {
        var allocator = new OrbitAllocator([Range("7000-7999")], OrbitAssignment.Random, new Random(3));
        for (var n = 7000; n <= 7999; n++)
        {
            if (n != 7777) Assert.That(allocator.TryTake(n.ToString()), Is.True);
        }
        Assert.That(allocator.TryAllocate(out var orbit), Is.True);
        Assert.That(orbit, Is.EqualTo("7777"));
        Assert.That(allocator.TryAllocate(out _), Is.False);
    }

    [Test]
    public void Orbits_of_a_second_range_and_with_a_prefix_are_formatted_and_released_by_number()
    {
        var allocator = new OrbitAllocator([Range("7000-7001"), Range("*100-*199")], OrbitAssignment.Lowest, new Random(1));
        Assert.That(allocator.TryTake("7000") && allocator.TryTake("7001"), Is.True);
        Assert.That(allocator.TryAllocate(out var orbit), Is.True);
        Assert.That(orbit, Is.EqualTo("*100"));
        Assert.That(allocator.IsTaken("*100"), Is.True);
        allocator.Release("*100");
        Assert.That(allocator.IsTaken("*100"), Is.False);
        Assert.That(allocator.Owns("*10"), Is.False, "a shorter number is not in a range of four characters");
        Assert.That(allocator.Owns("*+100"), Is.False);
    }

    [Test]
    public void A_range_of_nine_digit_numbers_hands_out_distinct_orbits_inside_it()
    {
        var range = Range("100000000-999999999");
        var allocator = new OrbitAllocator([range], OrbitAssignment.Random, new Random(11));
        var taken = new HashSet<string>();
        for (var i = 0; i < 1000; i++)
        {
            Assert.That(allocator.TryAllocate(out var orbit), Is.True);
            Assert.That(range.Contains(orbit), Is.True, orbit);
            Assert.That(taken.Add(orbit), Is.True, $"{orbit} handed out twice");
        }
        Assert.That(allocator.Capacity, Is.EqualTo(900_000_000));
    }
}
