#!/usr/bin/env bash
# The pool's SIP trace as HEP3 (issue 21), proved by a real capture server: Kamailio's sipcapture module listens for
# HEP on a free loopback port, UDP and TCP (kamailio/hep-capture.cfg logs each packet's chunks on one line). Then, once
# per transport, a pool-a started here runs with --hep udp:127.0.0.1:PORT (then tcp:...) and --pcap, run-park-sipp.sh
# parks and retrieves a call through it with sipp, the pool is stopped (flushing both traces), and hep_check.py checks
# that every SIP message of the pool's pcap (read with tshark) reached Kamailio exactly once with the same transport,
# addresses, ports, Call-ID and method or status, and the agent id, auth key and correlation id chunks.
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

# ---------------------------------------------------------------- Kamailio, the HEP receiver (UDP and TCP)

hep_port=${INTEROP_HEP_PORT:-$(free_port 15790)} || { record hep-kamailio-start fail "no free port for Kamailio"; exit 1; }
kam_dir="$OUT/kamailio"
mkdir -p "$kam_dir/db"
sed -e "s|@DB_DIR@|$kam_dir/db|g" "$INTEROP_DIR/kamailio/hep-capture.cfg" >"$kam_dir/kamailio.cfg"
kamailio -f "$kam_dir/kamailio.cfg" -l "udp:127.0.0.1:$hep_port" -l "tcp:127.0.0.1:$hep_port" -DD -E -P "$kam_dir/kamailio.pid" \
    -w "$kam_dir" -Y "$kam_dir" -m 64 -M 8 >"$kam_dir/kamailio.log" 2>&1 </dev/null &
kam_pid=$!
track_pid "$kam_pid"
ready=0
for ((i = 0; i < 40; i++)); do
    kill -0 "$kam_pid" 2>/dev/null || break
    if udp_port_bound "$hep_port" && [[ -n $(ss -Hltn "sport = :$hep_port" 2>/dev/null) ]]; then ready=1; break; fi
    sleep 0.25
done
if ((!ready)); then
    record hep-kamailio-start fail "Kamailio did not listen on UDP and TCP 127.0.0.1:$hep_port within 10 s: $(grep -m1 -E 'ERROR|CRITICAL' "$kam_dir/kamailio.log")"
    exit 1
fi
log "Kamailio (sipcapture) takes HEP on udp: and tcp:127.0.0.1:$hep_port, PID $kam_pid; log $kam_dir/kamailio.log"
kam_version=$(kamailio -v 2>/dev/null | sed -n 's/^version: kamailio \([^ ]*\).*/\1/p')

export INTEROP_POOL_A_SIP_PORT=${INTEROP_POOL_A_SIP_PORT:-$(free_port 15760)}
export INTEROP_POOL_A_ADMIN_PORT=${INTEROP_POOL_A_ADMIN_PORT:-$(free_port 18760)}
interop_build || { record hep-pool-start fail "dotnet build failed (see $INTEROP_TMP/build.log)"; exit 1; }

# prove TRANSPORT COUNTERS: a pool with --hep TRANSPORT:127.0.0.1:PORT and --pcap parks and retrieves a call; every SIP
# message of its pcap must have reached Kamailio exactly once. With COUNTERS true the pool also sends its music-on-hold
# counters (Pool:Trace:Hep:RtpCounters) and they are checked; with false none may come (off by default).
# Results hep-TRANSPORT-park-flow and hep-TRANSPORT-sipcapture.
prove() {
    local transport=$1 counters=$2
    local dir="$OUT/$transport"
    mkdir -p "$dir"
    rm -rf "$INTEROP_TMP/pool-a/data" # each run starts with no parked call and no journal of the one before
    local pcap="$dir/pool-a.pcap"
    # Kamailio's log holds both runs: this run's lines are those after this mark.
    local mark
    mark=$(wc -l <"$kam_dir/kamailio.log")
    if ! pool_start pool-a config/pool-a.json --hep "$transport:127.0.0.1:$hep_port" --pcap "$pcap" \
        "--Pool:Trace:Hep:AgentId=$AGENT" "--Pool:Trace:Hep:Password=$KEY" "--Pool:Trace:Hep:RtpCounters=$counters" ||
        ! pool_wait_ready pool-a; then
        record "hep-$transport-pool-start" fail "pool-a with --hep $transport:... did not start: ${POOL_NOT_READY_REASON:-see $INTEROP_TMP/pool-a/pool.log}"
        pool_stop pool-a
        return 1
    fi
    local sip_port=${POOL_SIP_PORT[pool-a]}

    # Park and retrieve (run-park-sipp.sh's scenarios).
    local park_rc=0 park_passed
    env -u SIPCALLPARK_COUNTS INTEROP_RUN_ALL=1 INTEROP_RESULTS="$dir/park-results.tsv" \
        INTEROP_POOL_A_SIP="127.0.0.1:$sip_port" INTEROP_POOL_A_ADMIN="${POOL_ADMIN[pool-a]}" \
        timeout -k 5 240 bash "$INTEROP_DIR/run-park-sipp.sh" >"$dir/park.log" 2>&1 || park_rc=$?
    park_passed=$(awk -F'\t' '$2 == "pass"' "$dir/park-results.tsv" 2>/dev/null | wc -l)
    if ((park_rc == 0 && park_passed >= 3)); then
        record "hep-$transport-park-flow" pass "through the pool with --hep $transport:...: $(cut -f1 "$dir/park-results.tsv" | paste -sd ' ' -) passed"
    else
        record "hep-$transport-park-flow" fail "run-park-sipp.sh exited $park_rc: $(awk -F'\t' '$2 == "fail" { print $1 ": " $3; exit }' "$dir/park-results.tsv" 2>/dev/null | cut -c1-300); see $dir/park.log"
    fi

    # A clean stop writes what the pcap queue holds and sends what the HEP queue holds.
    pool_stop pool-a
    cp "$INTEROP_TMP/pool-a/pool.log" "$dir/pool.log" 2>/dev/null
    local expected
    expected=$(tshark -r "$pcap" -T fields -e frame.number 2>/dev/null | wc -l)
    # Kamailio handles the last packets a moment later: wait (bounded) until it has logged as many as the pcap has.
    for ((i = 0; i < 50; i++)); do
        (($(tail -n "+$((mark + 1))" "$kam_dir/kamailio.log" | grep -c 'HEPSEEN.* type=1 ') >= expected)) && break
        sleep 0.2
    done
    sleep 0.5 # and a moment more, so that a duplicate would be in the log too
    tail -n "+$((mark + 1))" "$kam_dir/kamailio.log" >"$dir/kamailio.log"

    if python3 "$INTEROP_DIR/hep_check.py" --pcap "$dir/pool-a*.pcap" --sip-port "$sip_port" --kamailio-log "$dir/kamailio.log" \
        --agent "$AGENT" --key "$KEY" $([[ $counters == true ]] && echo --rtp-counters) >"$dir/check.txt" 2>&1; then
        local media="no media report (RtpCounters off)"
        [[ $counters == true ]] && media="$(grep -m1 'counter reports' "$dir/check.txt" | sed 's/^ok *//'), each stream with its final one"
        record "hep-$transport-sipcapture" pass "over $transport, Kamailio $kam_version sipcapture got each of the pcap's $expected SIP messages once, same addresses, ports, Call-ID, method/status, agent $AGENT, auth key; $(grep -m1 'HEP timestamps' "$dir/check.txt" | sed 's/^ok *//'); $media"
    else
        record "hep-$transport-sipcapture" fail "over $transport: $(grep -m3 '^FAIL' "$dir/check.txt" | sed 's/^FAIL //' | paste -sd ';' - | cut -c1-400); see $dir/check.txt"
    fi
    echo "--- HEP over $transport"
    cat "$dir/check.txt"
}

prove udp false
prove tcp true
if grep -q "content length not present" "$kam_dir/kamailio.log"; then
    record hep-tcp-framing fail "Kamailio closed a HEP-over-TCP connection: $(grep -m1 'content length not present' "$kam_dir/kamailio.log")"
fi
stop_pid "$kam_pid"
((INTEROP_FAILURES == 0))
