using Spectre.Console;

namespace SipCallPark.CallParkCtl;

/// <summary>
/// Where callparkctl writes and what it reads from its surroundings: tables go to <see cref="Console"/>, plain text
/// (help, JSON) to <see cref="Output"/>, errors to <see cref="Error"/>. Tests pass captured writers.
/// </summary>
internal sealed record CliEnvironment(IAnsiConsole Console, TextWriter Output, TextWriter Error, Func<string, string?> GetVariable)
{
    /// <summary>Whether <see cref="Output"/> is a terminal (not redirected to a file or pipe): colours only then.</summary>
    public bool OutputIsTerminal { get; init; }
}
