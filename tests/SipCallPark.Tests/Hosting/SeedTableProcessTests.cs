using SipCallPark.Lab;

namespace SipCallPark.Tests.Hosting;

/// <summary>
/// The seed table (docs/design.md §6), one test per cell, on two real pool processes (the executable, pool-a killed with
/// SIGKILL for the outage, failover and failback through pool-b's admin API). The scenarios are the lab's
/// (tools/SipCallPark.Lab), so <c>dotnet run --project tools/SipCallPark.Lab</c> prints what these tests assert:
/// each observation is what a lab phone saw (its call still up, a BYE, a refused park, the orbit a park got, a
/// retrieve answered 200).
/// </summary>
[Platform("Linux")]
[NonParallelizable]
public class SeedTableProcessTests
{
    private static LabSettings Settings => new()
    {
        PoolDll = Path.Combine(AppContext.BaseDirectory, "SipCallPark.dll"),
        ConfigDirectory = RepositoryPaths.Config(""),
    };

    [Test]
    public Task Not_yet_parked__outage__the_call_stays_up_and_cannot_be_parked() =>
        AssertCellAsync("→ 200 resiliency", "→ 202, subscription ended with 100 (399 pool-b \"Call park is unavailable in resiliency mode\")", "alice told: \"Call park is unavailable in resiliency mode", "alice and bob: no BYE after the outage");

    [Test]
    public Task Not_yet_parked__failover__no_park_in_resiliency_mode_then_park_and_retrieve_on_the_backups_orbits() =>
        AssertCellAsync("→ 202, subscription ended with 100 (399 pool-b \"Call park is unavailable in resiliency mode\")", "alice told: \"Call park is unavailable in resiliency mode", "hold → 200", "bob talks to carol",
            "checked while pool-a was FailingOver", "then park → parked on 71", "carol retrieves 71");

    [Test]
    public Task Not_yet_parked__failback__no_park_in_resiliency_mode_then_park_works_after_failback() =>
        AssertCellAsync("→ 202, subscription ended with 100 (399 pool-a \"Call park is unavailable in resiliency mode\")", "alice told: \"Call park is unavailable in resiliency mode", "hold → 200", "bob talks to carol",
            "checked while pool-a was FailingBack", "then park → parked on 70", "carol retrieves 70");

    [Test]
    public Task Parked_not_yet_retrieved__outage__the_call_is_disconnected() =>
        AssertCellAsync("bob parked on 70", "replicated to pool-b", "bob's park leg got BYE", "alice told: \"The call from sip:bob@callpark.lab on orbit 7000 was disconnected");

    [Test]
    public Task Parked_not_yet_retrieved__failover__no_calls_in_this_state() =>
        AssertCellAsync("bob's park leg was BYE'd at the outage, before failover", "dials 7000 → 404", "pool-b /parked lists nothing");

    [Test]
    public Task Parked_not_yet_retrieved__failback__the_call_stays_parked_and_is_retrievable_after_failback() =>
        AssertCellAsync("bob parked on 71", "during failback: bob still parked", "no BYE through failback", "→ 200");

    [Test]
    public Task Parked_and_retrieved__outage__the_call_stays_up() =>
        AssertCellAsync("carol retrieves 70", "bob and carol: no BYE after the outage");

    [Test]
    public Task Parked_and_retrieved__failover__the_call_stays_up() =>
        AssertCellAsync("carol retrieves 70", "bob and carol: no BYE from the outage through failover");

    [Test]
    public Task Parked_and_retrieved__failback__the_call_stays_up() =>
        AssertCellAsync("carol retrieves 71", "bob and carol: no BYE through pool-a's return and failback");

    /// <summary>Runs the cell named after the calling test; every observation must hold and each phrase must have been seen.</summary>
    private static async Task AssertCellAsync(params string[] seen)
    {
        var cell = SeedCell.Named(TestContext.CurrentContext.Test.MethodName!);
        var result = await SeedTableScenarios.RunAsync(cell, Settings);

        TestContext.Out.WriteLine($"{cell.RowText} × {cell.ColumnText}: {result.Observed}");
        TestContext.Out.WriteLine($"timings (ms): outage→detected {result.Timings.OutageDetected}, →orphans BYE'd {result.Timings.OrphansByed}, " +
                                  $"failover {result.Timings.Failover}, failback {result.Timings.Failback}");
        if (!result.Passed) TestContext.Out.WriteLine(result.PoolOutput);
        Assert.Multiple(() =>
        {
            Assert.That(result.Error, Is.Null, result.PoolOutput);
            foreach (var observation in result.Observations)
                Assert.That(observation.Held, Is.True, $"expected \"{cell.Expected}\", saw: {observation.What}");
            foreach (var phrase in seen)
                Assert.That(result.Observed, Does.Contain(phrase), $"expected \"{cell.Expected}\"");
        });
    }
}
