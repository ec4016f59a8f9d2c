using SharpFuzz;
using SipCallPark.Fuzz;

// SipCallPark.Fuzz TARGET [FILE...]
//   TARGET  parser | framer | sdp | websocket
//   no FILE: under afl-fuzz, serves SharpFuzz's fork server (one input per run); outside afl-fuzz, runs once on stdin.
//   FILE...: replays each file in this process and prints the first finding with its stack trace (exit 1), so a
//            crash or hang from a run can be checked, minimised and turned into a regression test.
if (args.Length == 0 || !FuzzTargets.TryGet(args[0], out var target))
{
    Console.Error.WriteLine($"usage: SipCallPark.Fuzz <{string.Join('|', FuzzTargets.Names)}> [FILE...]");
    return 2;
}

if (args.Length == 1)
{
    // The out-of-process server restarts the child after a fatal crash or a timeout, so a finding does not end the run.
    Fuzzer.OutOfProcess.Run(stream => target(ReadAll(stream)));
    return 0;
}

var status = 0;
foreach (var file in args.Skip(1))
{
    try
    {
        target(File.ReadAllBytes(file));
        Console.WriteLine($"ok       {file}");
    }
    catch (Exception e)
    {
        Console.WriteLine($"FINDING  {file}");
        Console.WriteLine(e);
        status = 1;
    }
}
return status;

static byte[] ReadAll(Stream stream)
{
    using var copy = new MemoryStream();
    stream.CopyTo(copy);
    return copy.ToArray();
}
