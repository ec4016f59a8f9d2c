using Microsoft.Extensions.Configuration;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;
using Serilog.Settings.Configuration;
using SipCallPark.Configuration;

namespace SipCallPark.Logging;

/// <summary>
/// Serilog for the pool: from the <c>Serilog</c> section of the pool's file when it has one, else a human console
/// and a daily/size-rolled compact JSON file under <c>logs/</c>. Every event carries the pool's name as <c>Pool</c>.
/// </summary>
internal static class PoolLogging
{
    public const string SectionName = "Serilog";

    public const string ConsoleTemplate =
        "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {Pool} {SourceContext}: {Message:lj}{NewLine}{Exception}";

    private const long FileSizeLimitBytes = 50 * 1024 * 1024;
    private const int RetainedFileCount = 14;

    /// <param name="levelOverride">From <c>--log-level</c>; wins over the file's default minimum level.</param>
    /// <exception cref="PoolConfigurationException">The <c>Serilog</c> section cannot be applied.</exception>
    public static void Configure(
        LoggerConfiguration logger,
        IConfiguration configuration,
        PoolOptions pool,
        LogEventLevel? levelOverride)
    {
        if (configuration.GetSection(SectionName).Exists())
        {
            // Naming the sink assemblies spares a scan of the dependency context and the "Using" list in the file.
            var readerOptions = new ConfigurationReaderOptions(
                typeof(ConsoleLoggerConfigurationExtensions).Assembly,
                typeof(FileLoggerConfigurationExtensions).Assembly,
                typeof(CompactJsonFormatter).Assembly)
            {
                SectionName = SectionName,
            };
            try
            {
                logger.ReadFrom.Configuration(configuration, readerOptions);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException
                                          or InvalidCastException or TypeLoadException)
            {
                throw new PoolConfigurationException($"{SectionName} section cannot be applied: {e.Message}", e);
            }
        }
        else
        {
            ConfigureDefaults(logger, pool.Name);
        }

        if (levelOverride is { } level)
        {
            logger.MinimumLevel.Is(level);
        }

        logger.Enrich.FromLogContext().Enrich.WithProperty("Pool", pool.Name);
    }

    private static void ConfigureDefaults(LoggerConfiguration logger, string poolName) =>
        logger
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
            .WriteTo.Console(outputTemplate: ConsoleTemplate)
            .WriteTo.File(
                new CompactJsonFormatter(),
                Path.Combine("logs", $"{poolName}-.json"),
                rollingInterval: RollingInterval.Day,
                fileSizeLimitBytes: FileSizeLimitBytes,
                rollOnFileSizeLimit: true,
                retainedFileCountLimit: RetainedFileCount);
}
