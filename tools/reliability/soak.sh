#!/usr/bin/env bash
# Soak: one pool under steady mixed load for N minutes, its memory, handles and threads sampled every 10 s.
#   tools/reliability/soak.sh [--minutes 10] [--out DIR]
# Load (all at a steady rate, all on 127.0.0.1):
#   registrations  sipp register-load.xml, 20 soak users, 5 REGISTERs/s (digest, Expires 300)
#   calls          sipp uac-call.xml (alice) -> uas-answer.xml (soak user "callee"), 2 calls/s
#   park+retrieve  SipCallPark.ParkLoad cycles (way 2 park, retrieve by bridge, hang up), 2 cycles/s
#   park timeouts  sipp park-timeout.xml: parked, never retrieved; CallPickupTimeout 10 s, ringback declined,
#                  BYE from the park; one new call every 5 s
# Pool on SIP 127.0.0.1:5260, admin 8260 (pool-b's address in the soak topology, 5262, is not started).
# Pass: every load generator exits 0 (zero failed flows), the pool is alive at the end. Writes DIR/samples.csv,
# DIR/report.md (with memory.svg) and the load generators' logs; exit 0 on pass, 1 on a failed flow, 2 on bad usage.
set -uo pipefail

MINUTES=10
OUT=""
while (($#)); do
    case $1 in
        --minutes) MINUTES=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done
[[ "$MINUTES" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "--minutes takes a number" >&2; exit 2; }
SECONDS_TOTAL=$(python3 -c "print(max(30, int(float('$MINUTES') * 60)))")
# The callee's one registration must outlive the run, and the registrar caps Expires at 7200 s.
((SECONDS_TOTAL <= 6600)) || { echo "--minutes is at most 110" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SIPP="$REPO/tools/interop/sipp"
OUT=${OUT:-$REPO/tools/reliability/results/soak-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sipcallpark-soak.XXXXXX")
SIP_PORT=5260 ADMIN_PORT=8260
POOL="127.0.0.1:$SIP_PORT"
ADMIN="http://127.0.0.1:$ADMIN_PORT"
PIDS=()

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$OUT/soak.log" >&2; }
# shellcheck source=tools/reliability/lib.sh
source "$HERE/lib.sh"
cleanup() {
    stop_pids "${PIDS[@]}"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for tool in sipp python3 curl dotnet; do
    command -v "$tool" >/dev/null || { echo "soak needs $tool" >&2; exit 2; }
done
POOL_DLL="$REPO/src/SipCallPark/bin/Release/net10.0/SipCallPark.dll"
LOAD_DLL="$REPO/tools/SipCallPark.ParkLoad/bin/Release/net10.0/SipCallPark.ParkLoad.dll"
if [[ ! -f "$POOL_DLL" || ! -f "$LOAD_DLL" ]]; then
    log "building the pool and ParkLoad (Release)"
    dotnet build "$REPO/src/SipCallPark" -c Release -nologo -v q >"$OUT/build.log" 2>&1 || { echo "build failed: $OUT/build.log" >&2; exit 2; }
    dotnet build "$REPO/tools/SipCallPark.ParkLoad" -c Release -nologo -v q >>"$OUT/build.log" 2>&1 || { echo "build failed: $OUT/build.log" >&2; exit 2; }
fi

# ---------------------------------------------------------------- topology, users, pool

python3 - "$REPO/config" "$WORK" <<'PY'
import json, sys
src, work = sys.argv[1], sys.argv[2]
topo = json.load(open(f"{src}/topology.json"))
users = json.load(open(f"{src}/users.json"))
for p in topo["Topology"]["Pools"]:
    p["Sip"] = p["Sip"].replace(":5060", ":5260").replace(":5062", ":5262")
    p["Admin"] = p["Admin"].replace(":8060", ":8260").replace(":8062", ":8262")
extra = [f"soak{i:02d}" for i in range(1, 21)] + ["callee", "tparty"]
for u in extra:
    topo["Topology"]["Users"].append({"User": u, "HomePool": "pool-a"})
    users["Users"].append({"user": u, "password": f"{u}-soak-pw"})
json.dump(topo, open(f"{work}/topology.json", "w"), indent=1)
json.dump(users, open(f"{work}/users.json", "w"), indent=1)
with open(f"{work}/soak-users.csv", "w") as f:
    f.write("SEQUENTIAL\n")
    for u in extra[:20]:
        f.write(f"{u};[authentication username={u} password={u}-soak-pw]\n")
PY

log "pool on $POOL (admin $ADMIN), data in $WORK/data; results in $OUT"
(cd "$REPO" && exec dotnet "$POOL_DLL" --config config/pool-a.json \
    --Pool:Sip:Port=$SIP_PORT --Pool:Admin:Url=$ADMIN --Pool:TopologyFile="$WORK/topology.json" \
    --Pool:UsersFile="$WORK/users.json" --Pool:DataDirectory="$WORK/data" --Pool:Replication:Enabled=false \
    --Pool:Park:CallPickupTimeout=00:00:10 --Pool:Park:MaxCallPickupAttempts=1 --Pool:Park:OrbitAssignment=Lowest \
    --Pool:Park:MediaPorts=45260-45659 --log-level Warning) >"$OUT/pool.log" 2>&1 &
POOL_PID=$!
PIDS+=("$POOL_PID")
wait_healthy "$ADMIN" || { log "the pool did not start (see $OUT/pool.log)"; exit 1; }

# ---------------------------------------------------------------- sampler

sample() {
    local t=$1 rss fds threads
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$POOL_PID/status" 2>/dev/null)
    threads=$(awk '/^Threads:/ {print $2}' "/proc/$POOL_PID/status" 2>/dev/null)
    fds=$(ls "/proc/$POOL_PID/fd" 2>/dev/null | wc -l)
    echo "$t,${rss:-0},$fds,${threads:-0}" >>"$OUT/samples.csv"
}
echo "elapsed_s,rss_kb,fds,threads" >"$OUT/samples.csv"

# ---------------------------------------------------------------- load

RUN=$SECONDS_TOTAL
sipp_common=(-i 127.0.0.1 -nostdin -trace_err -trace_stat -fd 10)

# The callee registers once, from the port its UAS then listens on (the pool calls a binding's source address),
# for longer than the run: the UAS holds that port, so it cannot refresh the binding.
sed "s/Expires: 300/Expires: $((RUN + 600))/" "$SIPP/register.xml" >"$WORK/register-callee.xml"
sipp -sf "$WORK/register-callee.xml" -s callee -au callee -ap callee-soak-pw -p 5265 -m 1 -recv_timeout 5000 "${sipp_common[@]}" \
    -error_file "$OUT/register-callee.errors.log" -stf "$OUT/register-callee.stat.csv" "$POOL" >"$OUT/register-callee.screen.log" 2>&1 \
    || { log "callee's REGISTER failed"; exit 1; }
CALLS=$((RUN * 2))
TIMEOUT_PARKS=$((RUN / 5))
REGISTERS=$((RUN * 5))

timeout -k 5 $((RUN + 120)) sipp -sf "$SIPP/uas-answer.xml" -p 5265 -m "$CALLS" "${sipp_common[@]}" \
    -error_file "$OUT/uas.errors.log" -stf "$OUT/uas.stat.csv" "$POOL" >"$OUT/uas.screen.log" 2>&1 </dev/null &
UAS_PID=$!; PIDS+=("$UAS_PID")
sleep 0.5
timeout -k 5 $((RUN + 120)) sipp -sf "$SIPP/uac-call.xml" -s callee -au alice -ap alice-lab-pw -p 5266 -r 2 -m "$CALLS" -l 50 \
    -recv_timeout 10000 "${sipp_common[@]}" -error_file "$OUT/uac.errors.log" -stf "$OUT/uac.stat.csv" "$POOL" \
    >"$OUT/uac.screen.log" 2>&1 </dev/null &
UAC_PID=$!; PIDS+=("$UAC_PID")
timeout -k 5 $((RUN + 120)) sipp -sf "$SIPP/register-load.xml" -inf "$WORK/soak-users.csv" -p 5264 -r 5 -m "$REGISTERS" -l 50 \
    -recv_timeout 10000 "${sipp_common[@]}" -error_file "$OUT/register.errors.log" -stf "$OUT/register.stat.csv" "$POOL" \
    >"$OUT/register.screen.log" 2>&1 </dev/null &
REG_PID=$!; PIDS+=("$REG_PID")
timeout -k 5 $((RUN + 120)) sipp -sf "$HERE/sipp/park-timeout.xml" -s park -key party tparty -au tparty -ap tparty-soak-pw -p 5267 \
    -r 1 -rp 5000 -m "$TIMEOUT_PARKS" -l 20 -recv_timeout 60000 "${sipp_common[@]}" -error_file "$OUT/timeout.errors.log" \
    -stf "$OUT/timeout.stat.csv" "$POOL" >"$OUT/timeout.screen.log" 2>&1 </dev/null &
TMO_PID=$!; PIDS+=("$TMO_PID")
timeout -k 5 $((RUN + 120)) dotnet "$LOAD_DLL" --pool "$POOL" --admin "$ADMIN" --mode cycles --rate 2 --seconds "$RUN" \
    --concurrency 20 --parked-ms 500 --pool-pid "$POOL_PID" >"$OUT/parkload.log" 2>&1 </dev/null &
PARK_PID=$!; PIDS+=("$PARK_PID")
log "load running for $RUN s: REGISTER 5/s, calls 2/s, park+retrieve cycles 2/s, park timeouts 1 per 5 s"

start=$(date +%s)
sample 0
while :; do
    sleep 10
    now=$(( $(date +%s) - start ))
    kill -0 "$POOL_PID" 2>/dev/null || { log "the pool died at $now s"; break; }
    sample "$now"
    alive=0
    for pid in "$UAC_PID" "$REG_PID" "$TMO_PID" "$PARK_PID"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    ((now > RUN + 150)) && break
done

rc_of() { local rc=0; wait "$1" || rc=$?; echo "$rc"; }
UAC_RC=$(rc_of "$UAC_PID"); REG_RC=$(rc_of "$REG_PID"); TMO_RC=$(rc_of "$TMO_PID"); PARK_RC=$(rc_of "$PARK_PID")
for _ in $(seq 100); do kill -0 "$UAS_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$UAS_PID" 2>/dev/null && kill "$UAS_PID" 2>/dev/null
UAS_RC=$(rc_of "$UAS_PID")
POOL_ALIVE=0; kill -0 "$POOL_PID" 2>/dev/null && POOL_ALIVE=1
sample "$(( $(date +%s) - start ))"
curl -fsS -m 3 "$ADMIN/status" >"$OUT/status-end.json" 2>/dev/null
curl -fsS -m 3 "$ADMIN/metrics" >"$OUT/metrics-end.txt" 2>/dev/null

# ---------------------------------------------------------------- report

python3 "$HERE/soak_report.py" --out "$OUT" --minutes "$MINUTES" --pool-alive "$POOL_ALIVE" \
    --rc "register=$REG_RC" "calls-uac=$UAC_RC" "calls-uas=$UAS_RC" "park-timeouts=$TMO_RC" "park-retrieve=$PARK_RC"
status=$?
log "report: $OUT/report.md"
exit $status
