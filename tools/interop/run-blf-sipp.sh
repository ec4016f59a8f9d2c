#!/usr/bin/env bash
# Orbit lamps (docs/design.md section 5, "Orbit lamps"; RFC 6665 + RFC 4235) with sipp: a pool-a started here (orbits
# taken lowest first, --pcap) gets a BLF subscription from alice's sipp (sipp/blf-watch.xml) to orbit 7000; then
# run-park-sipp.sh parks bob there (way 1) and carol retrieves him (bridge). The subscriber must see the lamp go
# free -> parked (confirmed) -> free (terminated), then unsubscribe (a last NOTIFY, terminated). blf_check.py checks
# each NOTIFY (headers, versions 0..3, states, the parked party) and validates its body against
# schema/dialog-info.xsd with xmllint; after the pool stops, tshark must decode every NOTIFY body of its pcap as XML
# with no malformed packet.
# Runs on its own under CI (its own pool on free ports; not part of run-all.sh).
# Results: blf-* lines in tools/interop/results.tsv (see README.md).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Under CI this script runs after run-all.sh: add to its results file rather than start a fresh one.
if [[ -n "${SIPCALLPARK_COUNTS:-}" && -s "$INTEROP_RESULTS" ]]; then INTEROP_RUN_ALL=${INTEROP_RUN_ALL:-blf}; fi
interop_init blf-sipp
unset INTEROP_RUN_ALL
require_tools sipp sipsak python3 curl tshark || exit 1

SIPP_DIR="$INTEROP_DIR/sipp"
OUT="$INTEROP_TMP/blf-sipp"
ORBIT=7000
mkdir -p "$OUT"

export INTEROP_POOL_A_SIP_PORT=${INTEROP_POOL_A_SIP_PORT:-$(free_port 15860)}
export INTEROP_POOL_A_ADMIN_PORT=${INTEROP_POOL_A_ADMIN_PORT:-$(free_port 18860)}
interop_build || { record blf-pool-start fail "dotnet build failed (see $INTEROP_TMP/build.log)"; exit 1; }
pcap="$OUT/pool-a.pcap"
if ! pool_start pool-a config/pool-a.json --pcap "$pcap" --Pool:Park:OrbitAssignment=Lowest || ! pool_wait_ready pool-a; then
    record blf-pool-start fail "pool-a did not start: ${POOL_NOT_READY_REASON:-see $INTEROP_TMP/pool-a/pool.log}"
    exit 1
fi
sip_port=${POOL_SIP_PORT[pool-a]}
POOL="127.0.0.1:$sip_port"

# ---------------------------------------------------------------- alice's lamp on the orbit

watch_port=$(free_port 15870) || { record blf-subscribe fail "no free port for the subscriber"; exit 1; }
timeout -k 5 150 sipp -sf "$SIPP_DIR/blf-watch.xml" -s "$ORBIT" -au alice -ap alice-lab-pw -i 127.0.0.1 -p "$watch_port" -m 1 -nostdin \
    -recv_timeout 120000 -trace_err -error_file "$OUT/blf-watch.errors.log" -trace_msg -message_file "$OUT/blf-watch.messages.log" \
    "$POOL" >"$OUT/blf-watch.screen.log" 2>"$OUT/blf-watch.stderr.log" </dev/null &
watch_pid=$!
track_pid "$watch_pid"
first=0
for ((i = 0; i < 100; i++)); do
    if grep -q '^NOTIFY ' "$OUT/blf-watch.messages.log" 2>/dev/null; then first=1; break; fi
    kill -0 "$watch_pid" 2>/dev/null || break
    sleep 0.1
done
if ((first)); then
    record blf-subscribe pass "SUBSCRIBE sip:$ORBIT@callpark.lab (Event: dialog) -> 407 -> 200 -> NOTIFY at once"
else
    record blf-subscribe fail "no NOTIFY within 10 s ($(first_error blf-watch); last received: $(last_received blf-watch)); traces in $OUT"
    exit 1
fi

# ---------------------------------------------------------------- park on the orbit and retrieve (run-park-sipp.sh)

park_rc=0
env -u SIPCALLPARK_COUNTS INTEROP_RUN_ALL=1 INTEROP_RESULTS="$OUT/park-results.tsv" \
    INTEROP_POOL_A_SIP="$POOL" INTEROP_POOL_A_ADMIN="${POOL_ADMIN[pool-a]}" \
    timeout -k 5 240 bash "$INTEROP_DIR/run-park-sipp.sh" >"$OUT/park.log" 2>&1 || park_rc=$?
park_orbits=$(grep -ho 'X-Park-Orbit: [0-9]*' "$OUT/park.log" | head -1)
if ((park_rc != 0)); then
    record blf-park-flow fail "run-park-sipp.sh exited $park_rc: $(awk -F'\t' '$2 == "fail" { print $1 ": " $3; exit }' "$OUT/park-results.tsv" 2>/dev/null | cut -c1-300); see $OUT/park.log"
fi

watch_rc=0
for ((i = 0; i < 300; i++)); do kill -0 "$watch_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$watch_pid" 2>/dev/null; then
    stop_pid "$watch_pid"
    watch_rc=124
else
    wait "$watch_pid" || watch_rc=$?
fi
python3 "$INTEROP_DIR/blf_check.py" --log "$OUT/blf-watch.messages.log" --orbit "$ORBIT" \
    --schema "$INTEROP_DIR/schema/dialog-info.xsd" --bodies "$OUT" >"$OUT/check.txt" 2>&1
check_rc=$?
cat "$OUT/check.txt"
if ((watch_rc == 0 && check_rc == 0)); then
    schema_note="bodies valid against schema/dialog-info.xsd (xmllint)"
    grep -q '^skip xmllint' "$OUT/check.txt" && schema_note="xmllint missing: schema not checked"
    record blf-lamp-park-retrieve pass "lamp on $ORBIT: terminated -> confirmed (bob parked${park_orbits:+, $park_orbits}) -> terminated (carol retrieved) -> unsubscribed, versions 0-3; $(grep -c '^ok' "$OUT/check.txt") checks ok; $schema_note"
else
    record blf-lamp-park-retrieve fail "subscriber sipp exit $watch_rc ($(first_error blf-watch); last received: $(last_received blf-watch)); $(grep -m3 '^FAIL' "$OUT/check.txt" | sed 's/^FAIL //' | paste -sd ';' - | cut -c1-300); traces in $OUT"
fi

# ---------------------------------------------------------------- tshark: the NOTIFY bodies in the pool's pcap

# A clean stop writes what the pcap queue holds.
stop_pid "${POOL_PID[pool-a]}" 100
unset "POOL_PID[pool-a]"
# tshark 4.0 leaves application/dialog-info+xml as text unless told that the media type is XML.
decode=(-d "udp.port==$sip_port,sip" -d "media_type==application/dialog-info+xml,xml")
notifies=$(tshark -r "$pcap" "${decode[@]}" -Y 'sip.Method == "NOTIFY" && sip.Event == "dialog"' 2>/dev/null | wc -l)
as_xml=$(tshark -r "$pcap" "${decode[@]}" -Y 'sip.Method == "NOTIFY" && sip.Event == "dialog" && xml.tag contains "dialog-info"' 2>/dev/null | wc -l)
malformed=$(tshark -r "$pcap" "${decode[@]}" -Y '_ws.malformed' 2>/dev/null | wc -l)
frames=$(tshark -r "$pcap" "${decode[@]}" 2>/dev/null | wc -l)
if ((notifies >= 4 && as_xml == notifies && malformed == 0)); then
    record blf-tshark-xml pass "tshark $(tshark -v 2>/dev/null | sed -n 's/^TShark (Wireshark) \([^ ]*\).*/\1/p'): $notifies dialog NOTIFYs in the pool's pcap, all decoded as dialog-info XML; 0 malformed of $frames frames"
else
    record blf-tshark-xml fail "pcap $pcap: $notifies dialog NOTIFYs, $as_xml decoded as dialog-info XML, $malformed malformed of $frames frames"
fi
((INTEROP_FAILURES == 0))
