using SipCallPark.CallParkCtl;

var terminal = !Console.IsOutputRedirected;
return await CallParkCtlApp.RunAsync(args, new CliEnvironment(CliConsole.Create(terminal, Console.Out), Console.Out, Console.Error,
    Environment.GetEnvironmentVariable)
{
    OutputIsTerminal = terminal,
});
