#!/usr/bin/env bash
# The attended park speaks its orbit (docs/design.md section 5 "Attended park") to a real phone: baresip alice calls
# sip:park@callpark.lab with nothing to transfer; the park answers with X-Park-Orbit and, on the RTP stream its SDP
# names, "orbit" and the orbit's digits (config/music/prompts) before the hold music. Starts its own pool-a (free
# ports, pool-b's entry in a topology copy pointing at an unused port) writing its RTP to a pcap (--Pool:PcapIncludeRtp),
# and compares what the pool sent alice with the prompts, frame by frame at each packet's RTP timestamp, byte for
# byte (prompt_check.py). About 15 s.
# Results: tools/interop/results.tsv (see README.md).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_if_ci_runs_all
interop_init park-prompt
require_tools baresip python3 tshark || exit 1
interop_build || { record park-prompt-pool-start fail "dotnet build failed (see $INTEROP_TMP/build.log)"; exit 1; }

CTL=("python3" "$INTEROP_DIR/baresip_ctl.py")
OUT="$INTEROP_TMP/park-prompt"
LIFETIME=${INTEROP_BARESIP_LIFETIME:-60} # seconds the phone may live at most (a bound; stopped by PID)
mkdir -p "$OUT"

# INTEROP_PROMPT_PORT_BASE=B moves every port into B..B+99: pool B.., phone B+40.., phone RTP B+60.., music B+80..
pb=${INTEROP_PROMPT_PORT_BASE:-15900}
sip=$(free_port "$pb") && admin=$(free_port $((pb + 2))) && b_sip=$(free_port $((pb + 4))) && b_admin=$(free_port $((pb + 6))) ||
    { record park-prompt-pool-start fail "no free ports"; exit 1; }
python3 - "$REPO_ROOT/config/topology.json" "$OUT/topology.json" "$sip" "$admin" "$b_sip" "$b_admin" <<'PY'
import json, sys
src, dst, a_sip, a_admin, b_sip, b_admin = sys.argv[1:]
document = json.load(open(src))
for pool in document["Topology"]["Pools"]:
    if pool["Name"] == "pool-a":
        pool["Sip"], pool["Admin"] = f"127.0.0.1:{a_sip}", f"http://127.0.0.1:{a_admin}"
    elif pool["Name"] == "pool-b":
        pool["Sip"], pool["Admin"] = f"127.0.0.1:{b_sip}", f"http://127.0.0.1:{b_admin}"
json.dump(document, open(dst, "w"), indent=2)
PY
media=$((pb + 80))
# shellcheck disable=SC2086 # INTEROP_POOL_ARGS is a list of --Key=value overrides
INTEROP_POOL_A_PROMPT_SIP_PORT=$sip INTEROP_POOL_A_PROMPT_ADMIN_PORT=$admin \
    pool_start pool-a-prompt config/pool-a.json "--Pool:TopologyFile=$OUT/topology.json" "--Pool:Replication:Enabled=false" \
    "--Pool:Park:MediaPorts=$media-$((media + 19))" "--Pool:PcapFile=$OUT/pool-a.pcap" "--Pool:PcapIncludeRtp=true" ${INTEROP_POOL_ARGS:-} ||
    { record park-prompt-pool-start fail "could not start pool-a"; exit 1; }
if ! pool_wait_ready pool-a-prompt; then
    record park-prompt-pool-start fail "pool-a not ready: $POOL_NOT_READY_REASON"
    exit 1
fi
POOL_A_SIP_PORT=$sip

phone=$(pick_sip_port $((pb + 40)) 10) || { record park-prompt-spoken fail "no free SIP ports for alice"; exit 1; }
start_phone alice alice-lab-pw manual "$phone" $((pb + 60))
if ! registered alice >/dev/null; then
    record park-prompt-spoken fail "alice did not register; trace in $OUT/alice/baresip.log"
    exit 1
fi

log "alice calls sip:park@callpark.lab (attended park: reserve an orbit)"
"${CTL[@]}" send --dir "$OUT/alice/ctl" --timeout 5 dial sip:park@callpark.lab >/dev/null 2>&1
if ! "${CTL[@]}" wait --dir "$OUT/alice/ctl" --timeout 15 --count 1 CALL_ESTABLISHED >/dev/null 2>&1; then
    record park-prompt-spoken fail "alice's call to sip:park@callpark.lab was not established; trace in $OUT/alice/baresip.log"
    exit 1
fi
orbit=$(sed 's/\x1b\[[0-9;]*m//g' "$OUT/alice/baresip.log" | tr -d '\r' | grep -aoE '^X-Park-Orbit: *[0-9]+' | head -1 | grep -oE '[0-9]+$')
# "orbit" and four digits take about 3.5 s; the music follows.
sleep 4.5
"${CTL[@]}" send --dir "$OUT/alice/ctl" --timeout 5 hangup >/dev/null 2>&1
"${CTL[@]}" wait --dir "$OUT/alice/ctl" --timeout 10 --count 1 CALL_CLOSED >/dev/null 2>&1
for pid in "${BARESIP_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
# A clean stop closes the pcap with every packet written.
pool_stop pool-a-prompt

if [[ -z "$orbit" ]]; then
    record park-prompt-spoken fail "the park's 200 to alice named no X-Park-Orbit; trace in $OUT/alice/baresip.log"
    exit 1
fi
tshark -r "$OUT/pool-a.pcap" -d "udp.port==$media,rtp" -T fields -e rtp.seq -e rtp.timestamp -e rtp.payload \
    "udp.srcport>=$media and udp.srcport<=$((media + 19)) and rtp" >"$OUT/rtp.txt" 2>"$OUT/tshark.log"
if verdict=$(python3 "$INTEROP_DIR/prompt_check.py" "$OUT/rtp.txt" "$orbit" "$REPO_ROOT/config/music/prompts"); then
    record park-prompt-spoken pass "orbit $orbit (X-Park-Orbit in the 200): $verdict"
else
    record park-prompt-spoken fail "orbit $orbit: $verdict; pcap $OUT/pool-a.pcap"
fi
exit $((INTEROP_FAILURES == 0 ? 0 : 1))
