using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// `--quick` runs every benchmark in-process with a few short iterations so CI finishes in seconds (numbers are
// indicative only); anything else goes to BenchmarkSwitcher as usual, e.g. `-- --filter '*'`.
var quick = args.Length > 0 && args[0] == "--quick";
var config = quick
    ? DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance)
        .WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(3).WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(100)))
    : DefaultConfig.Instance;
var rest = quick ? args[1..] : args;
if (quick && !rest.Contains("--filter")) rest = [.. rest, "--filter", "*"];
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest, config);
