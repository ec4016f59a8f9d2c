using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// `--quick` runs every benchmark in-process with a few short iterations so CI finishes in seconds (numbers are
// indicative only). `--inprocess` runs the default job (BenchmarkDotNet's own warm-up and iteration counts) in this
// process instead of a separately built one: no second build, which on a busy machine can exceed BenchmarkDotNet's
// 2-minute build timeout. Anything else goes to BenchmarkSwitcher as usual, e.g. `-- --filter '*'`.
var quick = args.Length > 0 && args[0] == "--quick";
var inProcess = args.Length > 0 && args[0] == "--inprocess";
var config = quick
    ? DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance)
        .WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(3).WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(100)))
    : inProcess
        ? DefaultConfig.Instance.AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance))
        : DefaultConfig.Instance;
var rest = quick || inProcess ? args[1..] : args;
if ((quick || inProcess) && !rest.Contains("--filter")) rest = [.. rest, "--filter", "*"];
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest, config);
