#!/usr/bin/env bash
# The pool's SIP trace as HEP3 (issue 21), proved by a real capture server: Kamailio's sipcapture module listens for
# HEP on a free loopback UDP port (kamailio/hep-capture.cfg logs each packet's chunks on one line), a pool-a started
# here runs with --hep udp:127.0.0.1:PORT and --pcap, run-park-sipp.sh parks and retrieves a call through it with
# sipp, the pool is stopped (flushing both traces), and hep_check.py checks that every SIP message of the pool's
# pcap (read with tshark) reached Kamailio exactly once with the same transport, addresses, ports, Call-ID and
# method or status, and the agent id, auth key and correlation id chunks.
# Runs on its own under CI (it starts its own pool and Kamailio on free ports; not part of run-all.sh).
# Results: hep-* lines in tools/interop/results.tsv (see README.md).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Under CI this script runs after run-all.sh: add to its results file rather than start a fresh one.
if [[ -n "${SIPCALLPARK_COUNTS:-}" && -s "$INTEROP_RESULTS" ]]; then INTEROP_RUN_ALL=${INTEROP_RUN_ALL:-hep}; fi
interop_init hep
unset INTEROP_RUN_ALL

OUT="$INTEROP_TMP/hep"
mkdir -p "$OUT"
AGENT=2001
KEY=hep-lab-key

# Kamailio is installed by the bench (tools/bench/run.sh), which CI runs after the interop scripts: install it here
# the same way when it is missing and we are root.
if ! command -v kamailio >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing kamailio"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends kamailio; } >"$OUT/apt.log" 2>&1 || tail -5 "$OUT/apt.log" >&2
fi
require_tools sipp sipsak python3 curl tshark kamailio || exit 1

# ---------------------------------------------------------------- Kamailio, the HEP receiver

hep_port=${INTEROP_HEP_PORT:-$(free_port 15790)} || { record hep-kamailio-start fail "no free port for Kamailio"; exit 1; }
kam_dir="$OUT/kamailio"
mkdir -p "$kam_dir/db"
sed -e "s|@DB_DIR@|$kam_dir/db|g" "$INTEROP_DIR/kamailio/hep-capture.cfg" >"$kam_dir/kamailio.cfg"
kamailio -f "$kam_dir/kamailio.cfg" -l "udp:127.0.0.1:$hep_port" -DD -E -P "$kam_dir/kamailio.pid" -w "$kam_dir" -Y "$kam_dir" \
    -m 64 -M 8 >"$kam_dir/kamailio.log" 2>&1 </dev/null &
kam_pid=$!
track_pid "$kam_pid"
ready=0
for ((i = 0; i < 40; i++)); do
    kill -0 "$kam_pid" 2>/dev/null || break
    if udp_port_bound "$hep_port"; then ready=1; break; fi
    sleep 0.25
done
if ((!ready)); then
    record hep-kamailio-start fail "Kamailio did not listen on UDP 127.0.0.1:$hep_port within 10 s: $(grep -m1 -E 'ERROR|CRITICAL' "$kam_dir/kamailio.log")"
    exit 1
fi
log "Kamailio (sipcapture) takes HEP on udp:127.0.0.1:$hep_port, PID $kam_pid; log $kam_dir/kamailio.log"

# ---------------------------------------------------------------- the pool, with --hep and --pcap

export INTEROP_POOL_A_SIP_PORT=${INTEROP_POOL_A_SIP_PORT:-$(free_port 15760)}
export INTEROP_POOL_A_ADMIN_PORT=${INTEROP_POOL_A_ADMIN_PORT:-$(free_port 18760)}
interop_build || { record hep-pool-start fail "dotnet build failed (see $INTEROP_TMP/build.log)"; exit 1; }
pcap="$OUT/pool-a.pcap"
if ! pool_start pool-a config/pool-a.json --hep "udp:127.0.0.1:$hep_port" --pcap "$pcap" \
    "--Pool:Trace:Hep:AgentId=$AGENT" "--Pool:Trace:Hep:Password=$KEY" || ! pool_wait_ready pool-a; then
    record hep-pool-start fail "pool-a with --hep did not start: ${POOL_NOT_READY_REASON:-see $INTEROP_TMP/pool-a/pool.log}"
    exit 1
fi
sip_port=${POOL_SIP_PORT[pool-a]}

# ---------------------------------------------------------------- park and retrieve (run-park-sipp.sh's scenarios)

park_rc=0
env -u SIPCALLPARK_COUNTS INTEROP_RUN_ALL=1 INTEROP_RESULTS="$OUT/park-results.tsv" \
    INTEROP_POOL_A_SIP="127.0.0.1:$sip_port" INTEROP_POOL_A_ADMIN="${POOL_ADMIN[pool-a]}" \
    timeout -k 5 240 bash "$INTEROP_DIR/run-park-sipp.sh" >"$OUT/park.log" 2>&1 || park_rc=$?
park_passed=$(awk -F'\t' '$2 == "pass"' "$OUT/park-results.tsv" 2>/dev/null | wc -l)
if ((park_rc == 0 && park_passed >= 3)); then
    record hep-park-flow pass "through the pool with --hep: $(cut -f1 "$OUT/park-results.tsv" | paste -sd ' ' -) passed"
else
    record hep-park-flow fail "run-park-sipp.sh exited $park_rc: $(awk -F'\t' '$2 == "fail" { print $1 ": " $3; exit }' "$OUT/park-results.tsv" 2>/dev/null | cut -c1-300); see $OUT/park.log"
fi

# A clean stop writes what the pcap queue holds and sends what the HEP queue holds.
stop_pid "${POOL_PID[pool-a]}" 100
unset "POOL_PID[pool-a]"
expected=$(tshark -r "$pcap" -T fields -e frame.number 2>/dev/null | wc -l)
# Kamailio handles the last datagrams a moment later: wait (bounded) until it has logged as many as the pcap has.
for ((i = 0; i < 50; i++)); do
    (($(grep -c HEPSEEN "$kam_dir/kamailio.log") >= expected)) && break
    sleep 0.2
done
stop_pid "$kam_pid"

if python3 "$INTEROP_DIR/hep_check.py" --pcap "$OUT/pool-a*.pcap" --sip-port "$sip_port" --kamailio-log "$kam_dir/kamailio.log" \
    --agent "$AGENT" --key "$KEY" >"$OUT/check.txt" 2>&1; then
    record hep-kamailio-sipcapture pass "Kamailio $(kamailio -v 2>/dev/null | sed -n 's/^version: kamailio \([^ ]*\).*/\1/p') sipcapture got each of the pcap's $expected SIP messages once, same addresses, ports, Call-ID, method/status, agent $AGENT, auth key; $(grep -m1 'HEP timestamps' "$OUT/check.txt" | sed 's/^ok *//')"
else
    record hep-kamailio-sipcapture fail "$(grep -m3 '^FAIL' "$OUT/check.txt" | sed 's/^FAIL //' | paste -sd ';' - | cut -c1-400); see $OUT/check.txt"
fi
cat "$OUT/check.txt"
((INTEROP_FAILURES == 0))
