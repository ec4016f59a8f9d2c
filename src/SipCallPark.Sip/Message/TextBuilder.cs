using System.Text;

namespace SipCallPark.Sip.Message;

/// <summary>
/// A per-thread <see cref="StringBuilder"/> for formatting header values: taking it leaves the slot empty, so a
/// nested format (a URI inside a name-addr) gets a builder of its own, and giving it back keeps one for the next
/// value on this thread. Formatting Via, Contact and URIs for every message sent otherwise creates a builder and
/// its buffers each time.
/// </summary>
internal static class TextBuilder
{
    private const int KeptCapacity = 1024;

    [ThreadStatic] private static StringBuilder? t_cached;

    public static StringBuilder Take()
    {
        var sb = t_cached;
        if (sb is null) return new StringBuilder(256);
        t_cached = null;
        return sb.Clear();
    }

    /// <summary>The builder's text; the builder goes back to this thread's slot unless it grew large.</summary>
    public static string Finish(StringBuilder sb)
    {
        var text = sb.ToString();
        if (sb.Capacity <= KeptCapacity) t_cached = sb;
        return text;
    }
}
