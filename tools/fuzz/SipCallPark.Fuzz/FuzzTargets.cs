namespace SipCallPark.Fuzz;

/// <summary>The fuzz targets by name. Each takes one input and throws only when it finds a bug.</summary>
internal static class FuzzTargets
{
    private static readonly Dictionary<string, Action<byte[]>> Targets = new(StringComparer.OrdinalIgnoreCase)
    {
        ["parser"] = ParserTarget.Run,
        ["framer"] = FramerTarget.Run,
        ["sdp"] = SdpTarget.Run,
        ["websocket"] = WebSocketTarget.Run,
    };

    public static IEnumerable<string> Names => Targets.Keys;

    public static bool TryGet(string name, out Action<byte[]> target) => Targets.TryGetValue(name, out target!);
}
