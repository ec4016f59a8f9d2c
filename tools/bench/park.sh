#!/usr/bin/env bash
# Park benchmark (docs/design.md §10: >= 500 park+retrieve cycles/s with zero failures; 10,000 parked calls, music off,
# under 200 MB). Builds Release, starts pool-a on 127.0.0.1 from config/pool-a.json with a temp data dir, a temp
# topology whose pool-a orbits are 70000-79999 (10,000 orbits) and RTP ports 20000-39999, and drives it with
# tools/SipCallPark.ParkLoad:
#   1. cycles (way 2 park, retrieve by bridge, hang up) open loop at increasing rates, then closed loop;
#   2. hold 1,000 parked calls with music on hold off, then (pool restarted) on: RSS, CPU over 10 s;
#   3. hold 10,000 with music off (skip with --no-10k).
# Prints a markdown table with the command lines. A measurement, not a test: it exits 0 unless it could not run.
#
#   tools/bench/park.sh                    the full run (about 6 minutes)
#   tools/bench/park.sh --quick            a few seconds per figure (CI smoke: small rates, 200 calls held)
#   tools/bench/park.sh 300 500 700        these open-loop rates
#   PARK_BENCH_KEEP=1 tools/bench/park.sh  keep the temp dir (pool logs, load output) even when all went well
#   PARK_BENCH_SIP_PORT=5160 PARK_BENCH_ADMIN_PORT=8160 PARK_BENCH_PARTNER_SIP_PORT=5162 PARK_BENCH_PARTNER_ADMIN_PORT=8162 \
#       tools/bench/park.sh                other ports for the pool and for the partner pool-b it probes and replicates to
#                                          (not started here; defaults 5060, 8060, 5062, 8062: the shipped ones)
#
# Everything listens on 127.0.0.1. The pool is stopped by its PID on exit. Every wait is bounded.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
POOL_DLL=src/SipCallPark/bin/Release/net10.0/SipCallPark.dll
LOAD_DLL=tools/SipCallPark.ParkLoad/bin/Release/net10.0/SipCallPark.ParkLoad.dll
SIP_PORT=${PARK_BENCH_SIP_PORT:-5060}
ADMIN_PORT=${PARK_BENCH_ADMIN_PORT:-8060}
SIP=127.0.0.1:$SIP_PORT
ADMIN=http://127.0.0.1:$ADMIN_PORT
PARTNER_SIP=127.0.0.1:${PARK_BENCH_PARTNER_SIP_PORT:-5062}
PARTNER_ADMIN=http://127.0.0.1:${PARK_BENCH_PARTNER_ADMIN_PORT:-8062}

quick=0 ten_k=1 build=1
rates=()
for a in "$@"; do
    case $a in
        --quick) quick=1 ;;
        --no-10k) ten_k=0 ;;
        --no-build) build=0 ;;
        -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
        *[!0-9]* | '') echo "park.sh: unknown argument '$a'" >&2; exit 2 ;;
        *) rates+=("$a") ;;
    esac
done
if ((quick)); then
    seconds=3 hold_calls=200 measure=3 closed=(20) ten_k=0
    ((${#rates[@]})) || rates=(50 100)
else
    seconds=20 hold_calls=1000 measure=10 closed=(20 50)
    ((${#rates[@]})) || rates=(100 200 400 600 800)
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sipcallpark-parkbench.XXXXXX")
POOL_PID=""
ROWS=()
NOTES=()
run_failed=0

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

stop_pool() {
    [[ -n "$POOL_PID" ]] || return 0
    local i
    if kill -0 "$POOL_PID" 2>/dev/null; then
        kill -TERM "$POOL_PID" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do kill -0 "$POOL_PID" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$POOL_PID" 2>/dev/null; then
            log "pool $POOL_PID did not stop in 10 s: SIGKILL"
            kill -KILL "$POOL_PID" 2>/dev/null || true
        fi
    fi
    wait "$POOL_PID" 2>/dev/null || true
    POOL_PID=""
}

cleanup() {
    local status=$?
    trap - EXIT
    stop_pool
    if ((status == 0 && run_failed == 0)) && [[ "${PARK_BENCH_KEEP:-0}" != 1 ]]; then
        rm -rf "$TMP"
    else
        log "logs and load output kept in $TMP"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- build and pool

if ((build)); then
    log "building Release"
    if ! timeout 900 dotnet build -c Release -nologo -v quiet SipCallPark.sln >"$TMP/build.log" 2>&1; then
        tail -30 "$TMP/build.log" >&2
        exit 1
    fi
fi
[[ -f "$POOL_DLL" && -f "$LOAD_DLL" ]] || { echo "park.sh: $POOL_DLL or $LOAD_DLL missing (build first)" >&2; exit 1; }

# Lync's rule: start and end of a range equal in length; 5 digits give pool-a 10,000 orbits.
python3 - config/topology.json "$TMP/topology.json" "$SIP" "$ADMIN" "$PARTNER_SIP" "$PARTNER_ADMIN" <<'PY'
import json, sys
topology = json.load(open(sys.argv[1]))
for pool in topology["Topology"]["Pools"]:
    pool["Orbits"] = {"pool-a": ["70000-79999"], "pool-b": ["80000-89999"]}.get(pool["Name"], pool["Orbits"])
    if pool["Name"] == "pool-a":
        pool["Sip"], pool["Admin"] = sys.argv[3], sys.argv[4]
    elif pool["Name"] == "pool-b":
        pool["Sip"], pool["Admin"] = sys.argv[5], sys.argv[6]
json.dump(topology, open(sys.argv[2], "w"), indent=2)
PY

# start_pool LABEL [--Key=value ...]: pool-a with a fresh data dir; sets POOL_PID and POOL_DIR; waits for /healthz.
start_pool() {
    local label=$1 i
    shift
    POOL_DIR="$TMP/$label"
    mkdir -p "$POOL_DIR/data" "$POOL_DIR/logs"
    if [[ -n $(ss -Hlun "sport = :${SIP##*:}" 2>/dev/null) ]]; then
        echo "park.sh: UDP $SIP is already in use; not measuring someone else's pool" >&2
        exit 1
    fi
    POOL_CMD=(dotnet "$POOL_DLL" --config config/pool-a.json --log-level Warning
        "--Pool:Sip:Port=$SIP_PORT" "--Pool:Admin:Url=$ADMIN"
        "--Pool:DataDirectory=$POOL_DIR/data" "--Pool:TopologyFile=$TMP/topology.json"
        --Pool:Park:OrbitAssignment=Lowest --Pool:Park:MediaPorts=20000-39999 --Pool:Park:CallPickupTimeout=00:10:00
        --Pool:RateLimit:Enabled=false
        "--Serilog:WriteTo:1:Args:path=$POOL_DIR/logs/pool-a-.json" "$@")
    "${POOL_CMD[@]}" >"$POOL_DIR/pool.log" 2>&1 </dev/null &
    POOL_PID=$!
    for ((i = 0; i < 60; i++)); do
        if ! kill -0 "$POOL_PID" 2>/dev/null; then
            tail -20 "$POOL_DIR/pool.log" >&2
            echo "park.sh: the pool exited during start-up" >&2
            exit 1
        fi
        curl -fsS -m 1 "$ADMIN/healthz" >/dev/null 2>&1 && break
        sleep 0.5
    done
    curl -fsS -m 2 "$ADMIN/healthz" >/dev/null 2>&1 || { echo "park.sh: $ADMIN/healthz did not answer in 30 s" >&2; exit 1; }
    log "pool-a ($label) up, PID $POOL_PID: ${POOL_CMD[*]}"
}

# pool_problems: warnings, errors and exceptions the pool logged, except its partner pool-b being down (not started here).
pool_problems() {
    grep -E ' (WRN|ERR|FTL)\]|Exception' "$POOL_DIR/pool.log" 2>/dev/null \
        | grep -vE 'pool-b|HealthMonitor|PartnerWatch|partner' || true
}

# ---------------------------------------------------------------- load

# load NAME ARGS...: one ParkLoad run; its output goes to $TMP/NAME.out and stderr; RESULT holds its RESULT line.
load() {
    local name=$1 rc=0
    shift
    LOAD_CMD=(dotnet "$LOAD_DLL" --pool "$SIP" --admin "$ADMIN" --pool-pid "$POOL_PID" "$@")
    log "${LOAD_CMD[*]}"
    timeout -k 5 900 "${LOAD_CMD[@]}" >"$TMP/$name.out" 2>&1 || rc=$?
    sed 's/^/    /' "$TMP/$name.out" | grep -v '^    RESULT' >&2
    RESULT=$(grep '^RESULT ' "$TMP/$name.out" | tail -1 || true)
    [[ -n "$RESULT" ]] || { RESULT="RESULT failed=? exit=$rc"; run_failed=1; }
    return 0
}

# field KEY: the value of KEY=... in $RESULT.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $RESULT"; }

cmd_text() { echo "${LOAD_CMD[*]}" | sed "s#--pool-pid [0-9]*#--pool-pid \$POOL_PID#"; }

# ---------------------------------------------------------------- 1. cycles

start_pool cycles --Pool:Park:EnableMusicOnHold=false
cycles_cmd="${POOL_CMD[*]}"
best=0 best_cps=0 failing=0
for rate in "${rates[@]}"; do
    load "cycles-$rate" --mode cycles --rate "$rate" --seconds "$seconds" --concurrency $((rate * 2 > 50 ? rate * 2 : 50))
    f=$(field failed) c=$(field completed)
    ROWS+=("| cycles, open loop $rate/s, ${seconds} s | $(field attempted) attempted, $c completed, **$f failed**; $(field cps) cycles/s; p50 $(field p50_ms) ms, p99 $(field p99_ms) ms; CPU pool $(field cpu_pct)%, load gen $(field gen_cpu_pct)%, machine $(field machine_pct)% | \`$(cmd_text)\` |")
    if [[ "$f" == 0 && "$c" =~ ^[1-9] ]]; then
        best=$rate best_cps=$(field cps) failing=0
    else
        failing=$((failing + 1))
        grep '^  failed' "$TMP/cycles-$rate.out" | head -3 | while read -r line; do log "rate $rate: $line"; done
        ((failing >= 2)) && break
    fi
done
for c in "${closed[@]}"; do
    load "closed-$c" --mode cycles --rate 0 --concurrency "$c" --seconds "$seconds"
    ROWS+=("| cycles, closed loop $c at a time, ${seconds} s | $(field attempted) attempted, $(field completed) completed, **$(field failed) failed**; $(field cps) cycles/s; p50 $(field p50_ms) ms, p99 $(field p99_ms) ms; CPU pool $(field cpu_pct)%, load gen $(field gen_cpu_pct)%, machine $(field machine_pct)% | \`$(cmd_text)\` |")
done
problems=$(pool_problems)
[[ -z "$problems" ]] || NOTES+=("cycles pool logged $(wc -l <<<"$problems") warnings/errors, first: $(head -3 <<<"$problems" | tr '\n' ' ')")
ROWS+=("| **highest open-loop rate with zero failures** | **$best/s** (achieved $best_cps cycles/s); target ≥ 500 | pool: \`$cycles_cmd\` |")
stop_pool

# ---------------------------------------------------------------- 2. and 3. hold

# hold LABEL CALLS MUSIC(true|false)
hold() {
    local label=$1 calls=$2 music=$3
    start_pool "$label" "--Pool:Park:EnableMusicOnHold=$music"
    local pool_cmd="${POOL_CMD[*]}"
    load "$label" --mode hold --calls "$calls" --concurrency 50 --measure-seconds "$measure"
    ROWS+=("| hold $calls, music $([[ $music == true ]] && echo on || echo off) | $(field parked) parked ($(field failed) failed, /status said $(field reported)); RSS **$(field rss_mb) MB** (idle $(field rss_idle_mb) MB, $(field kb_per_call) kB per call, peak $(field hwm_mb) MB); CPU **$(field cpu_pct)%** of one core over ${measure} s; $(field moh_streams) MoH streams, $(field rtp_pps) RTP pkt/s at the phones; $(field threads) threads, $(field fds) fds; $(field left_parked) left after hang-up | \`$(cmd_text)\`; pool: \`$pool_cmd\` |")
    local problems
    problems=$(pool_problems)
    [[ -z "$problems" ]] || NOTES+=("$label pool logged $(wc -l <<<"$problems") warnings/errors, first: $(head -3 <<<"$problems" | tr '\n' ' ')")
    stop_pool
}
hold hold-off "$hold_calls" false
hold hold-on "$hold_calls" true
((ten_k)) && hold hold-10k-off 10000 false

# ---------------------------------------------------------------- report

cpu_model=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
echo
echo "## Park benchmark $(date -u +%Y-%m-%dT%H:%MZ) — $(git rev-parse --short HEAD), $(nproc) cores ($cpu_model), .NET $(dotnet --version)"
echo
echo "Pool and load generator share the machine (UDP on 127.0.0.1); 'machine' is all CPU in use, other processes included."
echo
echo "| figure | result | command |"
echo "|---|---|---|"
printf '%s\n' "${ROWS[@]}"
if ((${#NOTES[@]})); then
    echo
    printf -- '- %s\n' "${NOTES[@]}"
fi
echo
echo "Load output and pool logs: $TMP (kept with PARK_BENCH_KEEP=1 or when something failed)"
