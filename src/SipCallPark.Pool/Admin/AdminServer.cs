using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Metrics;

namespace SipCallPark.Pool.Admin;

/// <summary>
/// The admin HTTP API (docs/design.md §8) on its own small Kestrel server, so the SIP host starts and stops it like any other
/// listener. It reads no configuration of its own (no appsettings, no ASPNETCORE_* variables): only
/// <see cref="AdminOptions"/> decide where it listens.
/// </summary>
public sealed class AdminServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ILogger _logger;
    private int _stopped;

    private AdminServer(WebApplication app, Uri url, ILogger logger)
    {
        _app = app;
        Url = url;
        _logger = logger;
    }

    /// <summary>Where the server actually listens (the real port when the options asked for port 0).</summary>
    public Uri Url { get; }

    /// <summary>
    /// Validates <paramref name="options"/> (throws <see cref="OptionsValidationError"/> naming the key, e.g. a
    /// non-loopback URL without <c>Pool:Admin:Token</c>) and starts listening.
    /// </summary>
    /// <param name="time">The clock of the trace stream's heartbeats; the system clock when null.</param>
    /// <param name="console">The web console's events (<c>GET /events</c>); a hub nobody publishes to when null.</param>
    public static async Task<AdminServer> StartAsync(AdminOptions options, IAdminBackend backend, SipMetrics metrics, ILogger logger,
        CancellationToken cancellationToken = default, TimeProvider? time = null, WebConsole.ConsoleEvents? console = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(AdminServer).Assembly.GetName().Name });
        builder.WebHost.UseKestrelCore().UseUrls(options.Url);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = 64 * 1024;   // operator commands: {"pool":"..."}; replication raises it per request
        });
        builder.Services.AddRoutingCore();
        builder.Logging.ClearProviders();

        var app = builder.Build();
        time ??= TimeProvider.System;
        AdminEndpoints.Map(app, options, backend, metrics, console ?? new WebConsole.ConsoleEvents(time, []), time, logger);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new OptionsValidationError($"{AdminOptions.Section}:Url", $"cannot listen on {options.Url}: {ex.Message}");
        }

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? options.Url;
        var server = new AdminServer(app, new Uri(bound), logger);
        logger.LogInformation("Admin API listening on {AdminUrl} (token {TokenRequired})", bound, options.Token is null ? "not required" : "required");
        return server;
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Admin API on {AdminUrl} stopped", Url);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
