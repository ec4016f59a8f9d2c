#!/usr/bin/env bash
# Stress mode for the process and interop suites: runs the same tests N times in a row, optionally beside two CPU
# burners, and prints the failures per test, so a flaky test shows before CI meets it.
#
#   tools/ci/repeat.sh [options] N [FILTER]
#
#   N                  how many runs (1-1000)
#   FILTER             a `dotnet test --filter` expression for the process tests, e.g.
#                      "FullyQualifiedName~PcapProcessTests"; each run is one `dotnet test` of --project
#   --interop SCRIPT   also (or, without FILTER, only) run tools/interop/SCRIPT (e.g. run-failover-phones.sh) each run;
#                      its results.tsv lines count as tests (a script that fails without recording a failure counts as
#                      SCRIPT itself failing)
#   --project PATH     the test project for FILTER (default tests/SipCallPark.Tests/SipCallPark.Tests.csproj)
#   --burn             two CPU burners (busy shell loops) run beside every run; started once, stopped by PID
#   --minutes M        overall bound (default 120): no run starts after it; each run is bounded too (dotnet test
#                      30 min, an interop script 10 min)
#   --out DIR          logs and TRX files per run (default artifacts/ci/repeat); a passing run's folder is removed
#   --no-build         use the Release build as it is (default: build once first, so no run builds)
#
# Prints one line per run, then per test: runs, failures. Exits 0 when every run ran and nothing failed, 1 otherwise.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)

usage() { sed -n '5,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

runs="" filter="" interop="" project="tests/SipCallPark.Tests/SipCallPark.Tests.csproj"
burn=0 minutes=120 out="$root/artifacts/ci/repeat" build=1
while (($#)); do
    case $1 in
        --interop) interop=${2:?}; shift 2 ;;
        --project) project=${2:?}; shift 2 ;;
        --burn) burn=1; shift ;;
        --minutes) minutes=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        --no-build) build=0; shift ;;
        -h | --help) usage ;;
        -*) echo "unknown option $1" >&2; usage ;;
        *)
            if [[ -z "$runs" ]]; then runs=$1
            elif [[ -z "$filter" ]]; then filter=$1
            else echo "unexpected argument $1" >&2; usage
            fi
            shift ;;
    esac
done
[[ "$runs" =~ ^[0-9]+$ ]] && ((runs >= 1 && runs <= 1000)) || { echo "N must be 1-1000" >&2; usage; }
[[ "$minutes" =~ ^[0-9]+$ ]] && ((minutes >= 1)) || { echo "--minutes must be a positive number" >&2; usage; }
[[ -n "$filter" || -n "$interop" ]] || { echo "give a FILTER, an --interop SCRIPT, or both" >&2; usage; }
if [[ -n "$interop" ]]; then
    interop=$(basename "$interop")
    [[ -f "tools/interop/$interop" ]] || { echo "no tools/interop/$interop" >&2; exit 2; }
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 DOTNET_CLI_UI_LANGUAGE=en
mkdir -p "$out"
tally="$out/tally.tsv" # one line per test per run: name<TAB>pass|fail<TAB>run
: >"$tally"

burners=()
stop_burners() {
    local pid
    for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    burners=()
}
trap 'stop_burners' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ((build)); then
    echo "== build (Release)"
    timeout 30m dotnet build SipCallPark.sln -c Release -nologo -v quiet >"$out/build.log" 2>&1 ||
        { tail -20 "$out/build.log" >&2; echo "build failed (see $out/build.log)" >&2; exit 1; }
fi

if ((burn)); then
    # Each burner ends by itself at the overall bound even if this script is killed without its EXIT trap.
    for _ in 1 2; do
        timeout $((minutes * 60 + 60)) sh -c 'while :; do :; done' &
        burners+=($!)
    done
    echo "== two CPU burners: PIDs ${burners[*]}"
fi

# trx_results FILE RUN: appends name<TAB>pass|fail<TAB>RUN for each test in a TRX file.
trx_results() {
    python3 - "$1" "$2" >>"$tally" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
for r in ET.parse(sys.argv[1]).getroot().iter(f"{ns}UnitTestResult"):
    outcome = r.get("outcome", "")
    if outcome in ("NotExecuted", "Inconclusive"):
        continue
    print(f"{r.get('testName')}\t{'pass' if outcome == 'Passed' else 'fail'}\t{sys.argv[2]}")
PY
}

deadline=$((SECONDS + minutes * 60))
done_runs=0 failed_runs=0
for ((run = 1; run <= runs; run++)); do
    if ((SECONDS >= deadline)); then
        echo "== the ${minutes}-minute bound is over: $done_runs of $runs runs done"
        break
    fi
    dir="$out/run-$run"
    rm -rf "$dir"
    mkdir -p "$dir"
    before=$(grep -c $'\tfail\t' "$tally" || true)
    started=$SECONDS
    if [[ -n "$filter" ]]; then
        status=0
        timeout 30m dotnet test "$project" -c Release --no-build --filter "$filter" \
            --logger "trx;LogFileName=run.trx" --results-directory "$dir" >"$dir/test.log" 2>&1 </dev/null || status=$?
        if [[ -f "$dir/run.trx" ]]; then
            trx_results "$dir/run.trx" "$run"
        fi
        if ((status != 0)) && ! grep -q $'\tfail\t'"$run"'$' "$tally"; then
            printf 'dotnet test (exit %s)\tfail\t%s\n' "$status" "$run" >>"$tally"
        fi
        if ! grep -q $'\t'"$run"'$' "$tally"; then
            printf 'dotnet test (no test matched %s)\tfail\t%s\n' "$filter" "$run" >>"$tally"
        fi
    fi
    if [[ -n "$interop" ]]; then
        status=0
        INTEROP_RESULTS="$dir/results.tsv" TMPDIR="$dir" SIPCALLPARK_CONFIG=Release \
            timeout 10m bash "tools/interop/$interop" >"$dir/interop.log" 2>&1 </dev/null || status=$?
        recorded=0
        if [[ -f "$dir/results.tsv" ]]; then
            while IFS=$'\t' read -r name verdict _; do
                [[ -n "$name" ]] || continue
                printf '%s\t%s\t%s\n' "$name" "$([[ $verdict == pass ]] && echo pass || echo fail)" "$run" >>"$tally"
                [[ $verdict == pass ]] || recorded=1
            done <"$dir/results.tsv"
        fi
        if ((status != 0 && !recorded)); then
            printf '%s (exit %s)\tfail\t%s\n' "$interop" "$status" "$run" >>"$tally"
        fi
    fi
    done_runs=$run
    after=$(grep -c $'\tfail\t' "$tally" || true)
    if ((after > before)); then
        failed_runs=$((failed_runs + 1))
        failures=$(awk -F'\t' -v r="$run" '$2 == "fail" && $3 == r { print $1 }' "$tally" | paste -sd, -)
        echo "run $run/$runs: FAILED in $((SECONDS - started)) s: $failures (kept in $dir)"
    else
        echo "run $run/$runs: ok in $((SECONDS - started)) s"
        rm -rf "$dir"
    fi
done
stop_burners

echo "== per test: runs, failures ($done_runs runs$( ((burn)) && echo ", beside two CPU burners"))"
awk -F'\t' '{ runs[$1]++; if ($2 == "fail") failed[$1]++ }
    END { for (t in runs) printf "%6d %6d  %s\n", runs[t], failed[t] + 0, t }' "$tally" | sort -k3
echo "== $done_runs of $runs runs done, $failed_runs with a failure"
((done_runs == runs && failed_runs == 0))
