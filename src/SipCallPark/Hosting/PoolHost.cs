using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serilog;
using SipCallPark.CommandLine;
using SipCallPark.Configuration;
using SipCallPark.Logging;

namespace SipCallPark.Hosting;

/// <summary>
/// Runs one pool: reads the command line and the pool's configuration, refuses to start on a bad one (exit code 2,
/// one line per problem on standard error, no stack trace), then hosts the pool until Ctrl+C or SIGTERM.
/// </summary>
internal static class PoolHost
{
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var parseResult = PoolCommandLine.CreateCommand().Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            return Refuse(error, parseResult.Errors.Select(e => e.Message), "Command line error");
        }

        if (parseResult.Action is not null)
        {
            // --help or --version (the command itself has no action): System.CommandLine prints them. It gets no
            // signal handling of its own; the host has that.
            var invocation = new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null };
            return await parseResult.InvokeAsync(invocation);
        }

        if (!PoolCommandLine.TryRead(parseResult, out var commandLine, out var problem))
        {
            return Refuse(error, [problem!], "Command line error");
        }

        return await RunPoolAsync(commandLine!, Directory.GetCurrentDirectory(), error);
    }

    private static async Task<int> RunPoolAsync(PoolCommandLine commandLine, string currentDirectory, TextWriter error)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            // The pool reads its own sources (PoolConfiguration); no appsettings.json or DOTNET_ variables.
            DisableDefaults = true,
            ContentRootPath = currentDirectory,
            ApplicationName = "SipCallPark",
        });
        try
        {
            PoolConfiguration.Load(builder.Configuration, commandLine.ConfigFile, currentDirectory, commandLine.KeyOverrides);
        }
        catch (PoolConfigurationException e)
        {
            return Refuse(error, e.Errors);
        }

        var configuration = builder.Configuration;
        builder.Services.AddPoolOptions(configuration);
        builder.Services.AddSerilog(
            (services, logger) => PoolLogging.Configure(
                logger, configuration, services.GetRequiredService<IOptions<PoolOptions>>().Value, commandLine.LogLevel),
            preserveStaticLogger: true);
        builder.Services.AddHostedService<SipServerService>();

        IHost host;
        try
        {
            host = builder.Build();

            // Reading the options validates them and the logger factory applies the Serilog section; doing both
            // here, before anything runs, turns a bad file into one message instead of a half-started pool.
            _ = host.Services.GetRequiredService<IOptions<PoolOptions>>().Value;
            _ = host.Services.GetRequiredService<ILoggerFactory>();
        }
        catch (PoolConfigurationException e)
        {
            return Refuse(error, e.Errors);
        }
        catch (OptionsValidationException e)
        {
            return Refuse(error, e.Failures);
        }

        using (host)
        {
            try
            {
                await host.RunAsync();
                return ExitCodes.Success;
            }
            catch (PoolConfigurationException e)
            {
                return Refuse(error, e.Errors);
            }
            catch (Pool.OptionsValidationError e)
            {
                return Refuse(error, [e.Message]);
            }
            catch (System.Net.Sockets.SocketException e)
            {
                error.WriteLine($"Startup error: cannot open the pool's sockets: {e.Message} (is another pool or SIP server using the port?)");
                return ExitCodes.Failure;
            }
            catch (Exception e)
            {
                host.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PoolHost))
                    .LogCritical(e, "The pool stopped on an unexpected error");
                return ExitCodes.Failure;
            }
        }
    }

    private static int Refuse(TextWriter error, IEnumerable<string> problems, string kind = "Configuration error")
    {
        foreach (var problem in problems)
        {
            error.WriteLine($"{kind}: {problem}");
        }

        return ExitCodes.ConfigurationError;
    }
}
