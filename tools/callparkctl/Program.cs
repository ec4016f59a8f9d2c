using SipCallPark.CallParkCtl;
using Spectre.Console;

return await CallParkCtlApp.RunAsync(args, new CliEnvironment(AnsiConsole.Console, Console.Out, Console.Error, Environment.GetEnvironmentVariable)
{
    OutputIsTerminal = !Console.IsOutputRedirected,
});
