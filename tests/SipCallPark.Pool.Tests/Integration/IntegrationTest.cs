using SipCallPark.Pool.Park;
using NUnit.Framework.Interfaces;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>
/// Base of the integration fixtures: disposes the test's <see cref="LabPools"/> after it and, when it failed,
/// prints every log line of its pools and phones.
/// </summary>
[NonParallelizable]
public abstract class IntegrationTest
{
    private LabPools? _lab;

    internal LabPools Lab => _lab ?? throw new InvalidOperationException("Call StartLabAsync first");

    internal async Task<LabPools> StartLabAsync(bool bothPools = false, TimeProvider? time = null, bool persistent = false, ParkOptions? park = null,
        string orbitsA = "7000-7099", bool replication = false)
    {
        _lab = await LabPools.StartAsync(bothPools, time, persistent, park, orbitsA, replication);
        return _lab;
    }

    [TearDown]
    public async Task DisposeLabAsync()
    {
        if (_lab is null) return;
        var lab = _lab;
        _lab = null;
        await lab.DisposeAsync();
        if (TestContext.CurrentContext.Result.Outcome.Status == TestStatus.Failed)
        {
            foreach (var line in lab.Log.Lines) await TestContext.Out.WriteLineAsync(line);
        }
    }
}
