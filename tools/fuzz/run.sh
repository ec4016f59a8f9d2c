#!/usr/bin/env bash
# Bounded AFL++ run over the SharpFuzz harness (tools/fuzz/SipCallPark.Fuzz), one afl-fuzz instance per target,
# targets one after the other.
#
#   tools/fuzz/run.sh [--seconds N] [--target parser|framer|sdp|websocket]... [--timeout MS] [--out DIR]
#
#   --seconds N   fuzzing time per target (afl-fuzz -V), default 300
#   --target T    parser, framer, sdp or websocket; repeat for several; default all four
#   --timeout MS  one input running longer than this is a hang (afl-fuzz -t), default 5000
#   --out DIR     where runs and findings go, default artifacts/fuzz
#
# Steps: installs afl++ from Debian when it is missing and we are root; builds the harness in Release; copies its
# output folder and instruments SipCallPark.Sip.dll in the copy with `dotnet sharpfuzz` (the local tool of
# .config/dotnet-tools.json), so the shared build output stays uninstrumented; runs afl-fuzz on the seed corpus
# (tools/fuzz/corpus/<target>) with the SIP dictionary (tools/fuzz/sip.dict); prints executions, execs/s, paths,
# crashes and hangs from fuzzer_stats; copies every crash and hang to DIR/findings/<target>/ and replays it
# (uninstrumented) to print what broke.
#
# With SIPCALLPARK_COUNTS set (as .ci/run sets it), appends passed=1 or failed=1 per target to that file, and
# failed=1 when afl++ or the build is not available.
#
# Exit status: 0 no crash and no hang; 1 a crash or hang was found (or a run did not produce its statistics);
# 2 bad arguments; 3 afl++, the tool or the build is not available.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fuzz_dir="$root/tools/fuzz"
seconds=300
timeout_ms=5000
out="$root/artifacts/fuzz"
targets=()
all_targets=(parser framer sdp websocket)

usage() { sed -n '4,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

while (($# > 0)); do
    case $1 in
        --seconds) seconds=${2:-}; shift 2 || usage ;;
        --target) targets+=("${2:-}"); shift 2 || usage ;;
        --timeout) timeout_ms=${2:-}; shift 2 || usage ;;
        --out) out=${2:-}; shift 2 || usage ;;
        -h|--help) usage ;;
        *) echo "unknown argument: $1" >&2; usage ;;
    esac
done
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "--seconds takes a positive number, got '$seconds'" >&2; exit 2; }
[[ $timeout_ms =~ ^[1-9][0-9]*$ ]] || { echo "--timeout takes a positive number of ms, got '$timeout_ms'" >&2; exit 2; }
((${#targets[@]} > 0)) || targets=("${all_targets[@]}")
for target in "${targets[@]}"; do
    [[ " ${all_targets[*]} " == *" $target "* ]] || { echo "unknown target '$target' (${all_targets[*]})" >&2; exit 2; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

count() { if [[ -n "${SIPCALLPARK_COUNTS:-}" ]]; then echo "$1=1" >>"$SIPCALLPARK_COUNTS"; fi; }

# Setup failed: every target counts as one failure, with the reason on stderr.
setup_failed() {
    echo "fuzz: $*" >&2
    for _ in "${targets[@]}"; do count failed; done
    exit 3
}

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v afl-fuzz >/dev/null 2>&1; then
    if [[ $(id -u) -ne 0 ]]; then
        setup_failed "afl-fuzz is missing and we are not root: install the Debian package afl++ first"
    fi
    echo "installing afl++ (Debian)"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends afl++ >/dev/null; } \
        || setup_failed "could not install afl++ with apt-get"
    command -v afl-fuzz >/dev/null 2>&1 || setup_failed "afl++ installed but afl-fuzz is not on PATH"
fi

cd "$root"
dotnet tool restore >/dev/null || setup_failed "dotnet tool restore failed (SharpFuzz.CommandLine, .config/dotnet-tools.json)"
echo "building the harness (Release)"
dotnet build tools/fuzz/SipCallPark.Fuzz/SipCallPark.Fuzz.csproj -c Release -nologo -v quiet >"$out/build.log" 2>&1 \
    || { tail -20 "$out/build.log" >&2; setup_failed "build failed (log: $out/build.log)"; }
build="$fuzz_dir/SipCallPark.Fuzz/bin/Release/net10.0"
instrumented="$out/instrumented"
rm -rf "$instrumented"
cp -r "$build" "$instrumented"
dotnet sharpfuzz "$instrumented/SipCallPark.Sip.dll" >"$out/instrument.log" 2>&1 \
    || { cat "$out/instrument.log" >&2; setup_failed "sharpfuzz could not instrument SipCallPark.Sip.dll"; }

# Containers: no CPU governor to check, core dumps may go to a pipe, the target (dotnet) is not compiled by afl,
# other processes share the cores.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1

stat_of() { awk -F' *: *' -v key="$2" '$1 == key { print $2; exit }' "$1"; }

failures=0
for target in "${targets[@]}"; do
    run_dir="$out/$target"
    rm -rf "$run_dir"
    mkdir -p "$run_dir"
    echo "== fuzz $target: ${seconds}s, hang after ${timeout_ms} ms (log: $run_dir/afl.log)"
    afl_status=0
    # afl-fuzz stops itself after -V seconds; the outer bound covers start-up and calibration going wrong.
    timeout --kill-after=30 $((seconds + 300)) \
        afl-fuzz -i "$fuzz_dir/corpus/$target" -o "$run_dir/afl" -x "$fuzz_dir/sip.dict" \
            -t "$timeout_ms" -m none -V "$seconds" -- dotnet "$instrumented/SipCallPark.Fuzz.dll" "$target" \
        >"$run_dir/afl.log" 2>&1 || afl_status=$?

    stats="$run_dir/afl/default/fuzzer_stats"
    if [[ ! -f $stats ]]; then
        tail -20 "$run_dir/afl.log" >&2
        echo "$target: afl-fuzz (status $afl_status) wrote no statistics: counted as a failure" >&2
        count failed
        failures=$((failures + 1))
        continue
    fi
    crashes=$(stat_of "$stats" saved_crashes)
    hangs=$(stat_of "$stats" saved_hangs)
    : "${crashes:=$(stat_of "$stats" unique_crashes)}" "${hangs:=$(stat_of "$stats" unique_hangs)}"
    printf '%s: %s executions, %s execs/s, %s paths (corpus), %s crashes, %s hangs, %ss\n' "$target" \
        "$(stat_of "$stats" execs_done)" "$(stat_of "$stats" execs_per_sec)" "$(stat_of "$stats" corpus_count)" \
        "${crashes:-?}" "${hangs:-?}" "$(stat_of "$stats" run_time)"

    if [[ ${crashes:-1} == 0 && ${hangs:-1} == 0 && $afl_status -eq 0 ]]; then
        count passed
        continue
    fi
    if [[ ${crashes:-1} == 0 && ${hangs:-1} == 0 ]]; then
        tail -20 "$run_dir/afl.log" >&2
        echo "$target: afl-fuzz exited with status $afl_status: counted as a failure" >&2
        count failed
        failures=$((failures + 1))
        continue
    fi

    count failed
    failures=$((failures + 1))
    findings="$out/findings/$target"
    mkdir -p "$findings"
    for kind in crashes hangs; do
        for file in "$run_dir/afl/default/$kind"/id:*; do
            [[ -f $file ]] || continue
            name="$kind-$(basename "$file" | cut -d, -f1 | tr ':' '-')"
            cp "$file" "$findings/$name"
            echo "-- $target $kind: $findings/$name ($(stat -c %s "$file") bytes), replayed:"
            replay_status=0
            timeout 60 dotnet "$build/SipCallPark.Fuzz.dll" "$target" "$findings/$name" >"$findings/$name.txt" 2>&1 \
                || replay_status=$?
            head -15 "$findings/$name.txt"
            if ((replay_status == 124)); then echo "   (still running after 60 s: a hang that reproduces)"; fi
        done
    done
done

echo "fuzz: ${#targets[@]} targets, $failures with findings or failed runs (output: $out)"
((failures == 0))
