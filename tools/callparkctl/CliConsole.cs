using Spectre.Console;

namespace SipCallPark.CallParkCtl;

/// <summary>The console the tables are drawn on.</summary>
internal static class CliConsole
{
    /// <summary>How wide a table may grow when the output is a pipe or file: one row stays one line for grep and awk.</summary>
    public const int RedirectedWidth = 4096;

    /// <summary>
    /// The terminal's console; for redirected output one that never wraps (Spectre otherwise assumes 80 columns when it
    /// cannot ask a terminal, and folds every long cell).
    /// </summary>
    public static IAnsiConsole Create(bool outputIsTerminal, TextWriter output)
    {
        if (outputIsTerminal) return AnsiConsole.Console;
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Interactive = InteractionSupport.No });
        console.Profile.Width = RedirectedWidth;
        return console;
    }
}
