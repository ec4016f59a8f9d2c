namespace SipCallPark.Sip.Message;

/// <summary>Method names (case-sensitive, RFC 3261 §7.1).</summary>
public static class SipMethods
{
    public const string Invite = "INVITE";
    public const string Ack = "ACK";
    public const string Bye = "BYE";
    public const string Cancel = "CANCEL";
    public const string Options = "OPTIONS";
    public const string Register = "REGISTER";
    public const string Refer = "REFER";
    public const string Notify = "NOTIFY";
    public const string Subscribe = "SUBSCRIBE";
    public const string Message = "MESSAGE";
    public const string Info = "INFO";
    public const string Update = "UPDATE";
    public const string Prack = "PRACK";
    public const string Publish = "PUBLISH";

    private static readonly string[] Known = [Invite, Ack, Bye, Cancel, Options, Register, Refer, Notify, Subscribe, Message, Info, Update, Prack, Publish];

    /// <summary>Whether the method is one of the SIP methods named here (case-sensitive, as methods are).</summary>
    public static bool IsKnown(string method) => Array.IndexOf(Known, method) >= 0;

    /// <summary>Interned method name for known methods so parsing allocates none.</summary>
    internal static string FromBytes(ReadOnlySpan<byte> bytes)
    {
        foreach (var known in Known)
        {
            if (bytes.Length == known.Length && System.Text.Ascii.Equals(bytes, known)) return known;
        }
        return System.Text.Encoding.ASCII.GetString(bytes);
    }
}
