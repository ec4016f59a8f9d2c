using System.Text.Json;
using System.Text.Json.Serialization;

namespace SipCallPark.Pool.Admin;

/// <summary>The admin API's JSON: web defaults (camelCase, case-insensitive reads) and enums as camelCase strings.
/// Shared by the server and callparkctl so both sides read the same contract.</summary>
public static class AdminJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
