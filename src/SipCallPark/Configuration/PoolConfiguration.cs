using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace SipCallPark.Configuration;

/// <summary>
/// Where the pool's configuration comes from, lowest precedence first: the pool's JSON file (<c>--config</c>),
/// environment variables prefixed <c>SIPCALLPARK_</c> (<c>SIPCALLPARK_Pool__Sip__Port=5070</c>), and key overrides
/// on the command line (<c>--Pool:Sip:Port=5070</c>). The shape of the file is documented in README.md.
/// </summary>
internal static class PoolConfiguration
{
    public const string EnvironmentPrefix = "SIPCALLPARK_";

    /// <summary>
    /// Loads the pool's configuration sources into <paramref name="configuration"/>.
    /// </summary>
    /// <param name="configFile">As given on the command line; a relative path starts at <paramref name="currentDirectory"/>.</param>
    /// <exception cref="PoolConfigurationException">The file is missing or is not valid JSON.</exception>
    public static void Load(
        ConfigurationManager configuration,
        string configFile,
        string currentDirectory,
        IReadOnlyList<string> keyOverrides)
    {
        var path = Path.GetFullPath(configFile, currentDirectory);
        if (!File.Exists(path))
        {
            throw new PoolConfigurationException(
                $"config file '{configFile}' not found (looked for {path}; a relative --config path starts at the current directory)");
        }

        try
        {
            configuration.AddJsonFile(path, optional: false, reloadOnChange: false);
        }
        catch (InvalidDataException e)
        {
            throw new PoolConfigurationException(
                $"config file {path} is not valid JSON: {e.InnerException?.Message ?? e.Message}", e);
        }

        configuration.AddEnvironmentVariables(EnvironmentPrefix);
        configuration.AddCommandLine([.. keyOverrides]);
    }

    /// <summary>
    /// Registers <see cref="PoolOptions"/>: bound from the <c>Pool</c> section (an unknown key is an error, so a
    /// typo does not silently fall back to a default), defaults applied, validated on first use and at start.
    /// </summary>
    public static IServiceCollection AddPoolOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IValidateOptions<PoolOptions>, PoolOptionsValidator>();
        services.AddOptions<PoolOptions>()
            .Configure(options => Bind(configuration, options))
            .ValidateOnStart();
        return services;
    }

    /// <summary>Binds the <c>Pool</c> section onto <paramref name="options"/> and applies the defaults.</summary>
    /// <exception cref="PoolConfigurationException">A key is unknown or a value has the wrong type.</exception>
    public static void Bind(IConfiguration configuration, PoolOptions options)
    {
        var section = configuration.GetSection(PoolOptions.SectionName);
        var unknown = UnknownKeys(section, typeof(PoolOptions)).ToList();
        if (unknown.Count > 0)
        {
            throw new PoolConfigurationException(unknown);
        }

        try
        {
            section.Bind(options);
        }
        catch (InvalidOperationException e)
        {
            // The binder's message names the key, the value and the type it expected.
            throw new PoolConfigurationException(e.Message, e);
        }

        options.ApplyDefaults();
    }

    /// <summary>Binds and validates, as the host does at start; for checks and tests outside a host.</summary>
    /// <exception cref="PoolConfigurationException">The configuration cannot start a pool.</exception>
    public static PoolOptions BindAndValidate(IConfiguration configuration)
    {
        var options = new PoolOptions();
        Bind(configuration, options);
        var result = new PoolOptionsValidator().Validate(Options.DefaultName, options);
        return result.Failed ? throw new PoolConfigurationException(result.Failures) : options;
    }

    /// <summary>Keys under <paramref name="section"/> that no property of <paramref name="optionsType"/> takes.</summary>
    private static IEnumerable<string> UnknownKeys(IConfigurationSection section, Type optionsType)
    {
        foreach (var child in section.GetChildren())
        {
            var property = optionsType.GetProperty(
                child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                var known = optionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name);
                yield return $"{child.Path} is not a known key ({section.Path} takes {string.Join(", ", known)})";
            }
            else if (property.PropertyType.IsClass && property.PropertyType.Namespace == typeof(PoolOptions).Namespace)
            {
                foreach (var problem in UnknownKeys(child, property.PropertyType))
                {
                    yield return problem;
                }
            }
        }
    }
}
