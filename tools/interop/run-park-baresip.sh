#!/usr/bin/env bash
# Park way 2 (blind transfer to the park address, docs/design.md section 5) with three baresip 1.0 softphones:
# alice calls bob, alice transfers bob to sip:park@callpark.lab (ctrl_tcp "transfer"), bob's baresip INVITEs the
# park service and is parked (music on hold), alice gets a SIP MESSAGE naming the orbit; carol dials the orbit and
# is bridged to bob (baresip has no Replaces, so no transfer out); carol hangs up and the park service ends bob's leg.
# Checks are on baresip's ctrl_tcp events and its SIP trace (-s). Starts pool-a unless run-all.sh (or you) gave one
# in INTEROP_POOL_A_SIP=127.0.0.1:5060. Results: tools/interop/results.tsv (see README.md).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_if_ci_runs_all
interop_init park-baresip
require_tools baresip python3 sipsak curl || exit 1

CTL=("python3" "$INTEROP_DIR/baresip_ctl.py")
OUT="$INTEROP_TMP/park-baresip"
LIFETIME=${INTEROP_BARESIP_LIFETIME:-150} # seconds each baresip and its session may live at most (a bound; stopped by PID)

use_or_start_pool_a || exit 1

# finish STATUS: baresip unregisters before it exits, which takes seconds: let the phones do it at once (SIGTERM to
# the PIDs started here), then exit; the EXIT trap stops whatever is left, by PID.
finish() {
    local pid
    for pid in "${BARESIP_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    exit "$1"
}

# events NAME TYPE: that phone's ctrl_tcp events of TYPE, one JSON object a line.
events() { grep -h "\"type\": \"$2\"" "$OUT/$1/ctl/events.jsonl" 2>/dev/null; }
# wait_event NAME TYPE COUNT TIMEOUT: at least COUNT events of TYPE (bounded by TIMEOUT seconds).
wait_event() { "${CTL[@]}" wait --dir "$OUT/$1/ctl" --timeout "$4" --count "$3" "$2" >/dev/null 2>&1; }
# field NAME JSON: a string field of one event (sed, not python: python starts slowly on a loaded machine).
field() { sed -n "s/.*\"$1\": \"\([^\"]*\)\".*/\1/p" <<<"$2" | head -1; }
send() { "${CTL[@]}" send --dir "$OUT/$1/ctl" --timeout 5 "${@:2}"; }

# received_by NAME PORT: the requests and responses that phone received, from its -s trace (each message follows a
# line "UDP 127.0.0.1:X -> 127.0.0.1:PORT"), one a line: start line<TAB>From<TAB>To<TAB>CSeq<TAB>SDP m=audio line.
received_by() {
    sed 's/\x1b\[[0-9;]*m//g' "$OUT/$1/baresip.log" 2>/dev/null | tr -d '\r' | awk -v port="$2" '
        function emit() { if (start != "") print start "\t" from "\t" to "\t" cseq "\t" media; start = from = to = cseq = media = "" }
        /^(UDP|TCP) [0-9.:]+ -> / { emit(); grab = ($NF == "127.0.0.1:" port); next }
        !grab { next }
        start == "" { if (NF > 0) start = $0; next }
        /^(From|f):/ { from = $0 } /^(To|t):/ { to = $0 } /^CSeq:/ { cseq = $0 }
        /^m=audio / { media = $0; emit(); grab = 0 }
        /^Content-Length: *0$/ { emit(); grab = 0 }
        END { emit() }'
}

mkdir -p "$OUT"
ports=()
base=15500
for p in alice bob carol; do
    port=$(pick_sip_port "$base" 40) || { record baresip-park-way2 fail "no free SIP ports for $p"; exit 1; }
    ports+=("$port")
    base=$((port + 10))
done
start_phone alice alice-lab-pw manual "${ports[0]}" 16300
start_phone bob bob-lab-pw auto "${ports[1]}" 16400
start_phone carol carol-lab-pw manual "${ports[2]}" 16500
log "alice on ${ports[0]}, bob on ${ports[1]}, carol on ${ports[2]} (ctrl_tcp on +4); logs in $OUT"

for p in alice bob carol; do
    if ! registered "$p"; then
        record baresip-park-way2 fail "$p did not register (REGISTER_FAIL: $(events "$p" REGISTER_FAIL | head -1 | cut -c1-200)); traces in $OUT/$p/baresip.log"
        finish 1
    fi
done

# 1. alice calls bob.
log "alice calls bob"
send alice dial sip:bob@callpark.lab >/dev/null 2>&1
if ! wait_event alice CALL_ESTABLISHED 1 15 || ! wait_event bob CALL_ESTABLISHED 1 15; then
    record baresip-park-way2 fail "alice's call to bob was not established; traces in $OUT/*/baresip.log"
    finish 1
fi
sleep 1

log "alice transfers bob to sip:park@callpark.lab"
# 2. alice transfers bob to the park service (REFER inside the call, Refer-To: <sip:park@callpark.lab>).
send alice transfer sip:park@callpark.lab >"$OUT/transfer.txt" 2>&1
# bob's baresip acts on the REFER: a second call, to sip:park@callpark.lab, established; the first one ends.
park_call=""
if wait_event bob CALL_ESTABLISHED 2 15; then
    park_call=$(events bob CALL_ESTABLISHED | sed -n 2p)
fi
wait_event alice CALL_CLOSED 1 10
alice_closed=$(events alice CALL_CLOSED | head -1)
peer=$(field peeruri "${park_call:-{\}}")
if [[ -n "$park_call" && "$peer" == sip:park@callpark.lab* && -n "$alice_closed" ]]; then
    record baresip-park-way2 pass "alice transferred bob to sip:park@callpark.lab; bob's call to $peer established; alice's call closed ('$(field param "$alice_closed")')"
else
    record baresip-park-way2 fail "bob's second call: '${park_call:-none}'; alice CALL_CLOSED: '${alice_closed:-none}'; transfer: $(tr '\n' ' ' <"$OUT/transfer.txt"); traces in $OUT/*/baresip.log"
    finish 1
fi

# The admin API lists bob's parked call, and names alice (who sent the REFER) as the parker.
parked_entry=$(curl -fsS -m 3 "$POOL_A_ADMIN/parked" 2>/dev/null | python3 -c '
import json, sys
def walk(x):
    if isinstance(x, dict):
        if "orbit" in x: yield x
        for v in x.values(): yield from walk(v)
    elif isinstance(x, list):
        for v in x: yield from walk(v)
try: data = json.load(sys.stdin)
except ValueError: sys.exit(0)
for e in walk(data):
    if "bob@" in str(e.get("parkedParty", "")):
        print("%s\t%s\t%s" % (e.get("orbit"), e.get("parkedParty"), e.get("parker"))); break' 2>/dev/null)
admin_orbit=$(cut -f1 <<<"$parked_entry")
admin_parker=$(cut -f3 <<<"$parked_entry")
if [[ -z "$parked_entry" ]]; then
    record baresip-park-parker-known fail "GET $POOL_A_ADMIN/parked lists no call parked by bob"
elif [[ "$admin_parker" == *alice@callpark.lab* ]]; then
    record baresip-park-parker-known pass "GET /parked: orbit $admin_orbit, parked party $(cut -f2 <<<"$parked_entry"), parker $admin_parker"
else
    record baresip-park-parker-known fail "GET /parked names '$admin_parker' as the parker of bob's call on orbit $admin_orbit, expected alice (she sent the REFER; baresip's INVITE to the park carries no Referred-By)"
fi

# 3. alice (the parker) got a SIP MESSAGE naming the orbit: X-Park-Orbit header and text.
orbit=""
deadline=$((SECONDS + 5))
for ((i = 0; i < 50 && SECONDS <= deadline; i++)); do
    orbit=$(grep -aoE '^X-Park-Orbit: *[0-9]+' "$OUT/alice/baresip.log" 2>/dev/null | head -1 | grep -oE '[0-9]+$')
    [[ -n "$orbit" ]] && break
    sleep 0.1
done
message_start=$(grep -anE '^MESSAGE sip:' "$OUT/alice/baresip.log" | head -1)
if [[ -n "$orbit" && -n "$message_start" ]] && grep -aqE "parked on orbit $orbit" "$OUT/alice/baresip.log"; then
    record baresip-park-message pass "alice got '${message_start#*:}' with X-Park-Orbit: $orbit and text '$(grep -aoE "[^\r]*parked on orbit $orbit" "$OUT/alice/baresip.log" | head -1)'"
else
    elsewhere=""
    for p in bob carol; do
        m=$(received_by "$p" "${ports[$([[ $p == bob ]] && echo 1 || echo 2)]}" | awk -F'\t' '$1 ~ /^MESSAGE /' | head -1 | cut -f1,2)
        [[ -n "$m" ]] && elsewhere+=" $p got '${m//$'\t'/ / }' instead;"
    done
    record baresip-park-message fail "MESSAGE to alice: '${message_start:-none}', X-Park-Orbit: '${orbit:-none}';${elsewhere} traces in $OUT/*/baresip.log"
fi
# Without the MESSAGE, take the orbit from the admin API, so that the retrieval is still tested.
[[ -n "$orbit" ]] || orbit=$admin_orbit
if [[ -z "$orbit" ]]; then
    record baresip-park-retrieve fail "not run: no orbit from the MESSAGE nor from GET /parked"
    finish 1
fi

# 4. carol dials the orbit; the park service bridges her to bob.
log "carol dials orbit $orbit"
sleep 0.5
send carol dial "sip:$orbit@callpark.lab" >/dev/null 2>&1
carol_est=""
if wait_event carol CALL_ESTABLISHED 1 15; then carol_est=$(events carol CALL_ESTABLISHED | head -1); fi
wait_event carol CALL_RTPESTAB 1 2
carol_rtp=$(events carol CALL_RTPESTAB | head -1)
sleep 1
# The bridge answers carol with bob's SDP: the m=audio port in carol's 200 is in bob's RTP range (16400-16419).
carol_media=$(received_by carol "${ports[2]}" | awk -F'\t' '$1 ~ /^SIP\/2.0 200/ && $4 ~ /INVITE/ { print $5 }' | tail -1)
carol_port=$(awk '{ print $2 }' <<<"$carol_media")
bob_closed_early=$(events bob CALL_CLOSED | grep -c 'sip:park@' || true)
# The bridge re-INVITEs bob inside the park dialog: an INVITE to bob that carries a To-tag.
reinvites=$(received_by bob "${ports[1]}" | awk -F'\t' '$1 ~ /^INVITE / && $2 ~ /sip:park@/ && $3 ~ /;tag=/' | wc -l)
bob_refer=$(received_by bob "${ports[1]}" | awk -F'\t' '$1 ~ /^REFER / && $2 ~ /sip:park@/' | wc -l)
if [[ -n "$carol_est" ]] && ((bob_closed_early == 0 && reinvites >= 1)) && [[ "$carol_port" =~ ^[0-9]+$ ]] &&
    ((carol_port >= 16400 && carol_port <= 16419)); then
    record baresip-park-retrieve pass "carol dialled sip:$orbit@callpark.lab: CALL_ESTABLISHED with bob's media ('$carol_media'); bob re-INVITEd in the park dialog ($reinvites in-dialog INVITE(s) and $bob_refer REFER(s) from the park service), bob's call still up; carol RTP: $([[ -n "$carol_rtp" ]] && echo established || echo none yet)"
else
    record baresip-park-retrieve fail "carol CALL_ESTABLISHED: '${carol_est:-none}' (closed: '$(events carol CALL_CLOSED | head -1 | cut -c1-160)'); carol's 200 SDP '${carol_media:-none}' (bob's RTP ports are 16400-16419); bob's park call closed: $bob_closed_early; in-dialog INVITEs to bob from the park: $reinvites, REFERs: $bob_refer; traces in $OUT/*/baresip.log"
    finish 1
fi

# 5. carol hangs up; the park service relays it to bob.
log "carol hangs up"
send carol hangup >/dev/null 2>&1
carol_closed=0 bob_closed=0
wait_event carol CALL_CLOSED 1 10 && carol_closed=1
for ((i = 0; i < 100; i++)); do
    if events bob CALL_CLOSED | grep -q 'sip:park@'; then bob_closed=1; break; fi
    sleep 0.1
done
if ((carol_closed && bob_closed)); then
    record baresip-park-hangup pass "carol hung up; CALL_CLOSED on carol and on bob's park call ('$(field param "$(events bob CALL_CLOSED | grep 'sip:park@' | head -1)")')"
else
    record baresip-park-hangup fail "CALL_CLOSED: carol $carol_closed, bob's park call $bob_closed; traces in $OUT/*/baresip.log"
fi

# 6. A directed park (docs/design.md section 5 "Park keys"): alice calls bob again and transfers him to a chosen free
# orbit. bob's baresip INVITEs sip:7042@callpark.lab without Referred-By; the pool saw alice's REFER pass, so the INVITE
# parks bob there (not a retrieve of an empty orbit, 404). carol then dials 7042 and gets bob.
DIRECTED=7042
log "alice calls bob again and transfers him to orbit $DIRECTED"
send alice dial sip:bob@callpark.lab >/dev/null 2>&1
if ! wait_event alice CALL_ESTABLISHED 2 15 || ! wait_event bob CALL_ESTABLISHED 3 15; then
    record baresip-park-directed fail "alice's second call to bob was not established; traces in $OUT/*/baresip.log"
    finish 1
fi
sleep 1
send alice transfer "sip:$DIRECTED@callpark.lab" >"$OUT/transfer-directed.txt" 2>&1
directed_call=""
if wait_event bob CALL_ESTABLISHED 4 15; then directed_call=$(events bob CALL_ESTABLISHED | sed -n 4p); fi
directed_entry=""
for ((i = 0; i < 50; i++)); do
    directed_entry=$(curl -fsS -m 3 "$POOL_A_ADMIN/parked" 2>/dev/null | grep -o "\"orbit\": *\"$DIRECTED\"[^}]*" | head -1)
    [[ -n "$directed_entry" ]] && break
    sleep 0.1
done
if [[ "$(field peeruri "${directed_call:-{\}}")" == "sip:$DIRECTED@callpark.lab"* && "$directed_entry" == *alice@callpark.lab* ]]; then
    record baresip-park-directed pass "alice ran 'transfer sip:$DIRECTED@callpark.lab'; bob's call to orbit $DIRECTED established; GET /parked: $directed_entry"
else
    record baresip-park-directed fail "bob's call: '${directed_call:-none}' (closed: '$(events bob CALL_CLOSED | tail -1 | cut -c1-160)'); GET /parked orbit $DIRECTED: '${directed_entry:-none}'; traces in $OUT/*/baresip.log"
    finish 1
fi
send carol dial "sip:$DIRECTED@callpark.lab" >/dev/null 2>&1
if wait_event carol CALL_ESTABLISHED 2 15 && [[ -z "$(curl -fsS -m 3 "$POOL_A_ADMIN/parked" 2>/dev/null | grep -o "\"orbit\": *\"$DIRECTED\"")" ]]; then
    record baresip-park-directed-retrieve pass "carol dialled sip:$DIRECTED@callpark.lab: CALL_ESTABLISHED, orbit $DIRECTED free again"
else
    record baresip-park-directed-retrieve fail "carol's call to $DIRECTED: '$(events carol CALL_ESTABLISHED | sed -n 2p | cut -c1-160)'; traces in $OUT/*/baresip.log"
fi
send carol hangup >/dev/null 2>&1
wait_event carol CALL_CLOSED 2 10
finish $((INTEROP_FAILURES == 0 ? 0 : 1))
