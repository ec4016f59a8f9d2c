#!/usr/bin/env bash
# Resiliency mode at the backup (docs/design.md section 7), with sipp as a user of the failed pool:
#   pool-b runs alone, its partner pool-a is never started (a dead primary), so pool-b declares pool-a's Outage;
#   sipp registers alice at pool-b -> 200 with X-Registration-Mode: resiliency and the Warning, then REFERs the park
#   server -> 407 -> 202 with Warning: 399 pool-b "Call park is unavailable in resiliency mode", then the NOTIFY ending
#   the subscription (100 Trying, terminated): refused, the call kept.
# Uses its own ports and topology, so it runs beside the pools run-all.sh started. Results: tools/interop/results.tsv.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_if_ci_runs_all
interop_init resiliency-sipp
require_tools sipp python3 curl || exit 1
interop_build || { record sipp-resiliency-park fail "dotnet build failed (see $INTEROP_TMP/build.log)"; exit 1; }

OUT="$INTEROP_TMP/resiliency-sipp"
mkdir -p "$OUT"
sip_port=$(free_port 15600) && admin_port=$(free_port 18600) && dead_port=$(free_port 15700) ||
    { record sipp-resiliency-park fail "no free ports"; exit 1; }

# The shipped topology with pool-a at a port nobody answers on and pool-b at ours.
python3 - "$REPO_ROOT/config/topology.json" "$OUT/topology.json" "$dead_port" "$sip_port" "$admin_port" <<'PY'
import json, sys
src, dst, dead, sip, admin = sys.argv[1:]
document = json.load(open(src))
for pool in document["Topology"]["Pools"]:
    if pool["Name"] == "pool-a":
        pool["Sip"] = f"127.0.0.1:{dead}"
    elif pool["Name"] == "pool-b":
        pool["Sip"] = f"127.0.0.1:{sip}"
        pool["Admin"] = f"http://127.0.0.1:{admin}"
json.dump(document, open(dst, "w"), indent=2)
PY

INTEROP_POOL_B_ALONE_SIP_PORT=$sip_port INTEROP_POOL_B_ALONE_ADMIN_PORT=$admin_port \
    pool_start pool-b-alone config/pool-b.json "--Pool:TopologyFile=$OUT/topology.json" "--Pool:Park:MediaPorts=42000-42099" \
    ||
    { record sipp-resiliency-park fail "could not start pool-b"; exit 1; }
if ! pool_wait_ready pool-b-alone; then
    record sipp-resiliency-park fail "pool-b not ready: $POOL_NOT_READY_REASON"
    exit 1
fi

# Wait (at most 10 s) for pool-b to declare its partner's outage.
phase=""
for ((i = 0; i < 50; i++)); do
    phase=$(curl -fsS -m 2 "http://127.0.0.1:$admin_port/status" 2>/dev/null |
        python3 -c 'import json,sys; s=json.load(sys.stdin); print(next((d["phase"] for d in s["dr"] if d["pool"]=="pool-a"), ""))' 2>/dev/null)
    [[ "$phase" == Outage ]] && break
    sleep 0.2
done
if [[ "$phase" != Outage ]]; then
    record sipp-resiliency-park fail "pool-b never declared pool-a's outage (phase '$phase')"
    exit 1
fi
log "pool-b sees pool-a in $phase"

rc=0
run_sipp resiliency 30 -sf "$INTEROP_DIR/sipp/resiliency-park.xml" -s alice -au alice -ap alice-lab-pw \
    -p "$(free_port 15610)" -m 1 -recv_timeout 5000 "127.0.0.1:$sip_port" || rc=$?
if ((rc == 0)); then
    record sipp-resiliency-park pass "pool-a down: alice registered at pool-b in resiliency mode (X-Registration-Mode + Warning); REFER to park -> 407 -> 202 + Warning 'Call park is unavailable in resiliency mode', NOTIFY 100 terminated with the Warning"
else
    record sipp-resiliency-park fail "sipp exit $rc ($(first_error resiliency)); last received: '$(last_received resiliency)' (traces in $OUT)"
fi
pool_stop pool-b-alone
