using SipCallPark.Pool.Park;
using SipCallPark.Pool.Resiliency;
using NUnit.Framework.Interfaces;
using SipCallPark.Sip.UserAgents;

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
        string orbitsA = "7000-7099", bool replication = false, int traceCapacity = Pool.Tracing.LiveTrace.DefaultCapacity,
        Pool.RateLimiting.RateLimitOptions? rateLimit = null, Pool.RateLimiting.OverloadOptions? overload = null, bool tls = false,
        string? adminToken = null, HealthMonitorOptions? health = null)
    {
        _lab = await LabPools.StartAsync(bothPools, time, persistent, park, orbitsA, replication, traceCapacity, rateLimit, overload, tls, adminToken,
            health);
        return _lab;
    }

    /// <summary>A phone of <paramref name="user"/> registered (200) at pool-a.</summary>
    internal static async Task<LabPhone> RegisteredPhoneAsync(LabPools lab, string user, bool supportsReplaces = true)
    {
        var phone = await lab.PhoneAsync(user, lab.A, supportsReplaces: supportsReplaces);
        Assert.That((await phone.RegisterAsync()).StatusCode, Is.EqualTo(200));
        return phone;
    }

    /// <summary>A confirmed call from <paramref name="caller"/> to <paramref name="callee"/> through their pool.</summary>
    internal static async Task<(SipCall Caller, SipCall Callee)> ConnectAsync(LabPhone caller, LabPhone callee)
    {
        var dialling = caller.CallAsync(callee.User);
        var incoming = await callee.NextIncomingAsync();
        var calleeCall = await incoming.AnswerAsync(callee.Sdp);
        var attempt = await dialling;
        Assert.That(attempt.IsSuccess, Is.True, attempt.ToString());
        await calleeCall.Confirmed.WaitAsync(LabPhone.Bound);
        return (attempt.Call!, calleeCall);
    }

    /// <summary>Waits (bounded by <see cref="LabPhone.Bound"/>) until <paramref name="condition"/> holds; fails the test otherwise.</summary>
    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + LabPhone.Bound;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("condition not met in time");
            await Task.Delay(10);
        }
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
