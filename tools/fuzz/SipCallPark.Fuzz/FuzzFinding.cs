namespace SipCallPark.Fuzz;

/// <summary>
/// An input broke a promise of the code under test (a round trip that does not read back, a frame that depends on
/// how the stream was cut). Thrown out of a target so afl-fuzz records the input as a crash.
/// </summary>
internal sealed class FuzzFinding(string message, Exception? inner = null) : Exception(message, inner)
{
    public static void Check(bool condition, string message)
    {
        if (!condition) throw new FuzzFinding(message);
    }
}
