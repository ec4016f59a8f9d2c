using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SipCallPark.Configuration;

namespace SipCallPark.Hosting;

/// <summary>
/// Owns the pool's SIP stack for the life of the process: it will open the transports of <see cref="SipListenerOptions"/>,
/// start the transaction layer on them and attach the registrar, proxy and park applications, and on stop close
/// them in reverse order. Until the stack is wired in, it only announces the endpoint it will serve.
/// </summary>
internal sealed partial class SipServerService(IOptions<PoolOptions> options, ILogger<SipServerService> logger)
    : IHostedService
{
    private readonly PoolOptions _pool = options.Value;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var endpoint = new IPEndPoint(IPAddress.Parse(_pool.Sip.ListenAddress), _pool.Sip.Port);
        LogStarting(_pool.Name, endpoint, string.Join("+", _pool.Sip.Transports));

        // The seam for the stack: create transports for _pool.Sip, the transaction layer over them and the pool's
        // applications here, in that order, so a failure to bind stops the start with the endpoint named.
        LogStackNotWired();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        LogStopped(_pool.Name);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "pool {Pool} starting on {Endpoint} over {Transports}")]
    private partial void LogStarting(string pool, IPEndPoint endpoint, string transports);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the SIP stack is not wired into the host yet: no SIP socket is open")]
    private partial void LogStackNotWired();

    [LoggerMessage(Level = LogLevel.Information, Message = "pool {Pool} stopped")]
    private partial void LogStopped(string pool);
}
