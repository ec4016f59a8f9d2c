#!/usr/bin/env bash
# Overload: drive one pool past its capacity with digest REGISTERs, then back under it, and check that it recovers.
#   tools/reliability/overload.sh [--high 4000] [--low 500] [--seconds 20] [--no-shedding] [--out DIR]
# Phases (sipp, UDP, tools/bench/sipp/register-auth.xml, 2,000 generated users, all on 127.0.0.1):
#   overload   --high REGISTERs/s for --seconds: failures are expected; the pool answers what it cannot take
#              with 503 (Pool:Overload), so it keeps no queue of requests whose senders have given up;
#   drain      5 s with no load;
#   recovery   --low REGISTERs/s for --seconds: must complete with zero failed.
# --no-shedding runs the same with Pool:Overload:Enabled=false, to compare. Pool on SIP 127.0.0.1:5280, admin 8280,
# sipp on 5281. Writes DIR/report.md and the sipp statistics; exit 0 when the recovery phase has zero failed and the
# pool is alive at the end, 1 otherwise, 2 on bad usage.
set -uo pipefail

HIGH=4000 LOW=500 STEP=20 SHEDDING=1 OUT=""
while (($#)); do
    case $1 in
        --high) HIGH=$2; shift 2 ;;
        --low) LOW=$2; shift 2 ;;
        --seconds) STEP=$2; shift 2 ;;
        --no-shedding) SHEDDING=0; shift ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done
for n in "$HIGH" "$LOW" "$STEP"; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "rates and --seconds take whole numbers" >&2; exit 2; }; done
((STEP <= 300)) || { echo "--seconds is at most 300" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$REPO/tools/reliability/results/overload-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sipcallpark-overload.XXXXXX")
SIP_PORT=5280 ADMIN_PORT=8280 SIPP_PORT=5281
ADMIN="http://127.0.0.1:$ADMIN_PORT"
POOL_PID=""

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$OUT/overload.log" >&2; }
# shellcheck source=tools/reliability/lib.sh
source "$HERE/lib.sh"
cleanup() {
    [[ -n "$POOL_PID" ]] && stop_pids "$POOL_PID"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for tool in sipp python3 curl dotnet; do
    command -v "$tool" >/dev/null || { echo "overload needs $tool" >&2; exit 2; }
done
POOL_DLL="$REPO/src/SipCallPark/bin/Release/net10.0/SipCallPark.dll"
if [[ ! -f "$POOL_DLL" ]]; then
    log "building the pool (Release)"
    dotnet build "$REPO/src/SipCallPark" -c Release -nologo -v q >"$OUT/build.log" 2>&1 || { echo "build failed: $OUT/build.log" >&2; exit 2; }
fi

python3 "$REPO/tools/bench/benchdata.py" users 2000 "$WORK" --sip-a "$SIP_PORT" --admin-a "$ADMIN_PORT" --sip-b 5282 --admin-b 8282 \
    || { log "could not generate the users"; exit 2; }
POOL_ARGS=(--config config/pool-a.json --log-level Warning --Pool:Sip:Port=$SIP_PORT --Pool:Admin:Url=$ADMIN
    --Pool:DataDirectory="$WORK/data" --Pool:TopologyFile="$WORK/topology.json" --Pool:UsersFile="$WORK/users.json"
    --Pool:RateLimit:Enabled=false --Pool:Replication:Enabled=false --Pool:Park:EnableMusicOnHold=false
    --Pool:Overload:Enabled=$( ((SHEDDING)) && echo true || echo false ))
log "pool: dotnet $POOL_DLL ${POOL_ARGS[*]}"
(cd "$REPO" && exec dotnet "$POOL_DLL" "${POOL_ARGS[@]}") >"$OUT/pool.log" 2>&1 </dev/null &
POOL_PID=$!
wait_healthy "$ADMIN" || { log "the pool did not start (see $OUT/pool.log)"; exit 1; }

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
metric() { curl -fsS -m 5 "$ADMIN/metrics" 2>/dev/null | awk -v name="sipcallpark_$1" '$1 == name { print $2; found = 1 } END { if (!found) print "?" }'; }
stat_of() { python3 "$REPO/tools/bench/benchdata.py" stat "$1" 'SuccessfulCall(C)' 'FailedCall(C)' 2>/dev/null | paste -sd' ' || echo "? ?"; }

# phase NAME RATE: one sipp run of STEP seconds; sets P_OK P_FAILED P_SECONDS P_CPU P_RC
phase() {
    local name=$1 rate=$2 start_ns cpu0 took_ms
    cpu0=$(cpu_ticks "$POOL_PID")
    start_ns=$(date +%s%N)
    P_RC=0
    timeout -k 5 $((STEP * 3 + 60)) sipp -sf "$REPO/tools/bench/sipp/register-auth.xml" -inf "$WORK/users.csv" \
        -i 127.0.0.1 -p "$SIPP_PORT" -r "$rate" -rp 1000 -m $((rate * STEP)) -l $((rate * 2)) -recv_timeout 5000 \
        -timeout $((STEP * 3 + 30)) -nostdin -trace_stat -stf "$OUT/$name.csv" -fd 1 -trace_err -error_file "$OUT/$name.errors.log" \
        "127.0.0.1:$SIP_PORT" >"$OUT/$name.screen.log" 2>&1 </dev/null || P_RC=$?
    took_ms=$((($(date +%s%N) - start_ns) / 1000000))
    P_SECONDS=$(awk -v ms="$took_ms" 'BEGIN { printf "%.1f", ms / 1000 }')
    P_CPU=$(awk -v a="$cpu0" -v b="$(cpu_ticks "$POOL_PID")" -v ms="$took_ms" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.0f", 100 * (b - a) / hz / (ms / 1000) }')
    read -r P_OK P_FAILED <<<"$(stat_of "$OUT/$name.csv")"
    log "$name: $rate REGISTER/s for $STEP s: ok $P_OK failed $P_FAILED in $P_SECONDS s (sipp exit $P_RC), pool CPU $P_CPU %," \
        "shed so far $(metric requests_shed), in flight $(metric requests_in_flight), transactions $(metric transactions_active)"
}

log "shedding $( ((SHEDDING)) && echo on || echo off ); results in $OUT"
phase overload "$HIGH"
O_OK=$P_OK O_FAILED=$P_FAILED O_SECONDS=$P_SECONDS O_CPU=$P_CPU O_SHED=$(metric requests_shed)
cpu0=$(cpu_ticks "$POOL_PID")
sleep 5
DRAIN_CPU=$(awk -v a="$cpu0" -v b="$(cpu_ticks "$POOL_PID")" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", 100 * (b - a) / hz / 5 }')
log "drain: pool CPU $DRAIN_CPU % over 5 s with no load, transactions $(metric transactions_active)"
phase recovery "$LOW"
R_OK=$P_OK R_FAILED=$P_FAILED R_SECONDS=$P_SECONDS R_CPU=$P_CPU R_RC=$P_RC
ALIVE=0; kill -0 "$POOL_PID" 2>/dev/null && curl -fsS -m 3 "$ADMIN/healthz" >/dev/null 2>&1 && ALIVE=1
RSS=$(awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$POOL_PID/status" 2>/dev/null)
WARNINGS=$(grep -c "Overload: answering new requests 503" "$OUT/pool.log" 2>/dev/null)

PASS=0
[[ "$R_FAILED" == 0 && "$R_RC" == 0 && "$ALIVE" == 1 ]] && PASS=1
{
    echo "# Overload run, $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "Shedding (\`Pool:Overload\`) $( ((SHEDDING)) && echo on || echo off ); \`tools/reliability/overload.sh --high $HIGH --low $LOW --seconds $STEP$( ((SHEDDING)) || echo ' --no-shedding')\`; $(nproc) cores, sipp on the same machine."
    echo
    echo "| phase | REGISTER/s | ok | failed | took | pool CPU |"
    echo "|---|---:|---:|---:|---:|---:|"
    echo "| overload | $HIGH | $O_OK | $O_FAILED | $O_SECONDS s | $O_CPU % |"
    echo "| drain (no load, 5 s) | 0 | | | 5 s | $DRAIN_CPU % |"
    echo "| recovery | $LOW | $R_OK | $R_FAILED | $R_SECONDS s | $R_CPU % |"
    echo
    echo "Requests shed (503) during the overload: $O_SHED; warning lines: $WARNINGS; pool alive at the end: $( ((ALIVE)) && echo yes || echo no ); RSS $RSS MB."
    echo
    echo "Result: $( ((PASS)) && echo "PASS (the recovery phase had zero failed)" || echo "FAIL (the pool did not recover)")"
} >"$OUT/report.md"
cat "$OUT/report.md"
((PASS)) && exit 0 || exit 1
