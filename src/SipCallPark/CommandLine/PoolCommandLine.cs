using System.CommandLine;
using Serilog.Events;

namespace SipCallPark.CommandLine;

/// <summary>
/// What the pool executable was asked to do: <c>--config FILE</c>, <c>--log-level LEVEL</c>, and configuration key
/// overrides such as <c>--Pool:Sip:Port=5070</c> (any key with a ':'; they win over the file).
/// </summary>
internal sealed record PoolCommandLine(string ConfigFile, LogEventLevel? LogLevel, IReadOnlyList<string> KeyOverrides)
{
    public const string DefaultConfigFile = "config/pool-a.json";

    private static readonly string[] LevelNames = Enum.GetNames<LogEventLevel>();

    public static Option<string> ConfigOption { get; } = new("--config", "-c")
    {
        Description = "The pool's JSON configuration file; a relative path starts at the current directory.",
        HelpName = "file",
        DefaultValueFactory = _ => DefaultConfigFile,
    };

    public static Option<string?> LogLevelOption { get; } = CreateLogLevelOption();

    /// <summary><c>--pcap FILE</c>: the same as <c>--Pool:PcapFile=FILE</c>.</summary>
    public static Option<string?> PcapOption { get; } = new("--pcap")
    {
        Description = "Write every SIP message sent and received to this pcap file (rolls at 100 MB); same as --Pool:PcapFile.",
        HelpName = "file",
    };

    /// <summary><c>--pcap-rtp</c>: the same as <c>--Pool:PcapIncludeRtp=true</c> (needs <c>--pcap</c> or Pool:PcapFile).</summary>
    public static Option<bool> PcapRtpOption { get; } = new("--pcap-rtp")
    {
        Description = "Also write the music-on-hold RTP the pool sends into the pcap file; same as --Pool:PcapIncludeRtp=true.",
    };

    /// <summary><c>--hep ENDPOINT</c>: the same as <c>--Pool:Trace:Hep:Endpoint=ENDPOINT</c>.</summary>
    public static Option<string?> HepOption { get; } = new("--hep")
    {
        Description = "Mirror every SIP message sent and received to a Homer capture server as HEP3 (udp:HOST:PORT or tcp:HOST:PORT); same as --Pool:Trace:Hep:Endpoint.",
        HelpName = "endpoint",
    };

    /// <summary>The command with its options; key overrides arrive as unmatched tokens and are checked by <see cref="TryRead"/>.</summary>
    public static RootCommand CreateCommand()
    {
        var command = new RootCommand(
            "SipCallPark: a SIP call-park pool. Configuration keys can be overridden as --Section:Key=value.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.Options.Add(ConfigOption);
        command.Options.Add(LogLevelOption);
        command.Options.Add(PcapOption);
        command.Options.Add(PcapRtpOption);
        command.Options.Add(HepOption);
        return command;
    }

    /// <summary>Reads a parse result; false with a message when an argument is neither an option nor a key override.</summary>
    public static bool TryRead(ParseResult result, out PoolCommandLine? commandLine, out string? error)
    {
        commandLine = null;
        if (!TryReadKeyOverrides(result.UnmatchedTokens, out var overrides, out error))
        {
            return false;
        }

        if (result.GetValue(PcapOption) is { } pcap)
        {
            overrides.Add($"--Pool:PcapFile={pcap}");
        }

        if (result.GetValue(HepOption) is { } hep)
        {
            overrides.Add($"--Pool:Trace:Hep:Endpoint={hep}");
        }

        if (result.GetValue(PcapRtpOption))
        {
            overrides.Add("--Pool:PcapIncludeRtp=true");
        }

        var level = result.GetValue(LogLevelOption) is { } name
            ? Enum.Parse<LogEventLevel>(name, ignoreCase: true)
            : (LogEventLevel?)null;
        commandLine = new PoolCommandLine(result.GetValue(ConfigOption) ?? DefaultConfigFile, level, overrides);
        return true;
    }

    private static Option<string?> CreateLogLevelOption()
    {
        var option = new Option<string?>("--log-level")
        {
            Description = "The minimum level logged, over the file's Serilog:MinimumLevel:Default.",
            HelpName = "level",
        };
        option.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, LevelNames);
        return option;
    }

    private static bool TryReadKeyOverrides(IReadOnlyList<string> tokens, out List<string> overrides, out string? error)
    {
        overrides = [];
        error = null;
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            var equals = token.IndexOf('=');
            var key = equals < 0 ? token : token[..equals];
            if (!key.StartsWith("--", StringComparison.Ordinal) || !key.Contains(':') || key.Length < 5)
            {
                error = $"unknown argument '{token}' (options are --config and --log-level; override a key as --Section:Key=value)";
                return false;
            }

            if (equals >= 0)
            {
                overrides.Add(token);
                continue;
            }

            if (i + 1 >= tokens.Count || tokens[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                error = $"'{token}' needs a value (--Section:Key=value)";
                return false;
            }

            overrides.Add($"{token}={tokens[++i]}");
        }

        return true;
    }
}
