#!/usr/bin/env bash
# Ringback without REFER (docs/design.md section 5 "Timeout") with baresip 1.0 as the parker and as the parked party.
# Runs its own pool-a on free ports with Pool:Park:CallPickupTimeout=00:00:10 (the least allowed) and
# RingbackTimeout=00:00:20, so it can run beside run-all.sh's pools:
#   ringback-park     alice calls bob and transfers him to sip:park@callpark.lab; bob's call to the park is established
#   ringback-invite   after the timeout the park INVITEs alice itself: From bob, Alert-Info <urn:alert:service:recall:hold>,
#                     Call-Info naming the orbit, X-Park-Orbit; alice (answermode auto) answers: CALL_ESTABLISHED with bob
#   ringback-joined   the park joins them by the bridge (baresip has no Replaces): bob gets a re-INVITE in his park dialog
#                     carrying alice's media port, never a REFER; GET /parked no longer lists the orbit
#   ringback-hangup   alice hangs up; bob's park call closes (the bridge relays the BYE)
# Checks are on baresip's ctrl_tcp events and its SIP trace (-s). Results: tools/interop/results.tsv (see README.md).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init ringback
require_tools baresip python3 sipsak curl || exit 1

CTL=("python3" "$INTEROP_DIR/baresip_ctl.py")
OUT="$INTEROP_TMP/ringback"
LIFETIME=${INTEROP_BARESIP_LIFETIME:-90}
PICKUP_SECONDS=10
mkdir -p "$OUT"

finish() {
    local pid
    for pid in "${BARESIP_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    exit "$1"
}

events() { grep -h "\"type\": \"$2\"" "$OUT/$1/ctl/events.jsonl" 2>/dev/null; }
wait_event() { "${CTL[@]}" wait --dir "$OUT/$1/ctl" --timeout "$4" --count "$3" "$2" >/dev/null 2>&1; }
field() { sed -n "s/.*\"$1\": \"\([^\"]*\)\".*/\1/p" <<<"$2" | head -1; }
send() { "${CTL[@]}" send --dir "$OUT/$1/ctl" --timeout 5 "${@:2}"; }

# received_by NAME PORT: the requests and responses that phone received (baresip -s trace), one a line:
# start line<TAB>From<TAB>To<TAB>CSeq<TAB>SDP m=audio line.
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

# header_of_ringback NAME HEADER: that header of the first INVITE the phone received whose From is bob (the ringback).
header_of_ringback() {
    sed 's/\x1b\[[0-9;]*m//g' "$OUT/$1/baresip.log" 2>/dev/null | tr -d '\r' | awk -v h="$2" '
        /^INVITE sip:/ { inv = 1; from = ""; found = ""; next }
        inv && NF == 0 { if (from ~ /sip:bob@/ && found != "") { print found; exit } inv = 0; next }
        inv && /^(From|f):/ { from = $0 }
        inv && index($0, h ":") == 1 { found = $0 }'
}

# ---------------------------------------------------------------- pool-a with a short park timeout

interop_build || { record ringback-pool-start fail "dotnet build failed (see $INTEROP_TMP/build.log)"; exit 1; }
export INTEROP_POOL_A_SIP_PORT=${INTEROP_POOL_A_SIP_PORT:-$(pick_sip_port 25160 20)}
export INTEROP_POOL_A_ADMIN_PORT=${INTEROP_POOL_A_ADMIN_PORT:-$(free_port $((INTEROP_POOL_A_SIP_PORT + 7)))}
# shellcheck disable=SC2086 # INTEROP_POOL_ARGS is a list of --Key=value overrides
pool_start pool-a config/pool-a.json "--Pool:Park:CallPickupTimeout=00:00:$PICKUP_SECONDS" "--Pool:Park:RingbackTimeout=00:00:20" \
    "--Pool:Park:MaxCallPickupAttempts=1" ${INTEROP_POOL_ARGS:-} ||
    { record ringback-pool-start fail "could not start pool-a"; exit 1; }
if ! pool_wait_ready pool-a; then
    record ringback-pool-start fail "pool-a not ready: $POOL_NOT_READY_REASON"
    exit 1
fi
POOL_A_SIP_PORT=${POOL_SIP_PORT[pool-a]}
POOL_A_ADMIN=${POOL_ADMIN[pool-a]}

ports=()
base=${INTEROP_RINGBACK_PHONE_PORT:-15600}
RTP_A=${INTEROP_RINGBACK_RTP_BASE:-16600} # alice's RTP ports RTP_A..+19, bob's the next 20
RTP_B=$((RTP_A + 20))
for p in alice bob; do
    port=$(pick_sip_port "$base" 40) || { record ringback-park fail "no free SIP ports for $p"; exit 1; }
    ports+=("$port")
    base=$((port + 10))
done
start_phone alice alice-lab-pw auto "${ports[0]}" "$RTP_A"
start_phone bob bob-lab-pw auto "${ports[1]}" "$RTP_B"
log "alice on ${ports[0]}, bob on ${ports[1]} (ctrl_tcp on +4); pool-a on $POOL_A_SIP_PORT; logs in $OUT"
for p in alice bob; do
    if ! registered "$p"; then
        record ringback-park fail "$p did not register (REGISTER_FAIL: $(events "$p" REGISTER_FAIL | head -1 | cut -c1-200)); traces in $OUT/$p/baresip.log"
        finish 1
    fi
done

# ---------------------------------------------------------------- 1. alice parks bob (way 2)

send alice dial sip:bob@callpark.lab >/dev/null 2>&1
if ! wait_event alice CALL_ESTABLISHED 1 15 || ! wait_event bob CALL_ESTABLISHED 1 15; then
    record ringback-park fail "alice's call to bob was not established; traces in $OUT/*/baresip.log"
    finish 1
fi
sleep 1
send alice transfer sip:park@callpark.lab >"$OUT/transfer.txt" 2>&1
park_call=""
if wait_event bob CALL_ESTABLISHED 2 15; then park_call=$(events bob CALL_ESTABLISHED | sed -n 2p); fi
wait_event alice CALL_CLOSED 1 10
parked_at=$SECONDS
orbit=$(json_records "$POOL_A_ADMIN/parked" | grep 'bob@' | json_field orbit | head -1)
if [[ "$(field peeruri "${park_call:-{\}}")" == sip:park@callpark.lab* && -n "$orbit" && -n "$(events alice CALL_CLOSED | head -1)" ]]; then
    record ringback-park pass "bob parked on orbit $orbit by alice's transfer; alice's call closed"
else
    record ringback-park fail "bob's call to the park: '${park_call:-none}'; orbit from GET /parked: '${orbit:-none}'; traces in $OUT/*/baresip.log"
    finish 1
fi

# ---------------------------------------------------------------- 2. the park rings alice back

if ! wait_event alice CALL_ESTABLISHED 2 $((PICKUP_SECONDS + 25)); then
    record ringback-invite fail "no second CALL_ESTABLISHED on alice $((SECONDS - parked_at)) s after the park (CallPickupTimeout ${PICKUP_SECONDS} s); incoming: '$(events alice CALL_INCOMING | head -1 | cut -c1-200)'; traces in $OUT/alice/baresip.log"
    finish 1
fi
ringback=$(events alice CALL_ESTABLISHED | sed -n 2p)
alert=$(header_of_ringback alice Alert-Info)
info=$(header_of_ringback alice Call-Info)
orbit_header=$(header_of_ringback alice X-Park-Orbit)
if [[ "$(field peeruri "$ringback")" == sip:bob@callpark.lab* && "$alert" == *"urn:alert:service:recall:hold"* &&
    "$info" == *"orbit=$orbit"*"park=ringback"* && "$orbit_header" == *"$orbit" ]]; then
    record ringback-invite pass "$((SECONDS - parked_at)) s after the park alice answered a call from $(field peeruri "$ringback"): '$alert', '$info', '$orbit_header'"
else
    record ringback-invite fail "alice's second call: '$(cut -c1-200 <<<"$ringback")'; Alert-Info '${alert:-none}', Call-Info '${info:-none}', X-Park-Orbit '${orbit_header:-none}'; traces in $OUT/alice/baresip.log"
    finish 1
fi

# ---------------------------------------------------------------- 3. joined by the bridge, no REFER to bob

joined=0 reinvite="" listed=""
for ((i = 0; i < 50; i++)); do
    # An INVITE to bob inside his park dialog (From the park, with a To-tag) whose SDP has alice's media port.
    reinvite=$(received_by bob "${ports[1]}" | awk -F'\t' '$1 ~ /^INVITE / && $2 ~ /sip:park@/ && $3 ~ /;tag=/ { print $5 }' |
        awk -v lo="$RTP_A" '$2 >= lo && $2 <= lo + 19' | tail -1)
    listed=$(json_records "$POOL_A_ADMIN/parked" | grep -c "\"$orbit\"" || true)
    if [[ -n "$reinvite" ]] && ((listed == 0)); then joined=1; break; fi
    sleep 0.2
done
refers=$(received_by bob "${ports[1]}" | awk -F'\t' '$1 ~ /^REFER / && $2 ~ /sip:park@/' | wc -l)
bob_closed=$(events bob CALL_CLOSED | grep -c 'sip:park@' || true)
if ((joined && refers == 0 && bob_closed == 0)); then
    record ringback-joined pass "bob re-INVITEd in his park dialog with alice's media ('$reinvite'), no REFER from the park, his park call up; orbit $orbit free"
else
    record ringback-joined fail "re-INVITE to bob with alice's media: '${reinvite:-none}'; REFERs from the park to bob: $refers; bob's park call closed: $bob_closed; orbit still listed: $listed; traces in $OUT/*/baresip.log, pool log $INTEROP_TMP/pool-a/pool.log"
    finish 1
fi

# ---------------------------------------------------------------- 4. alice hangs up

send alice hangup >/dev/null 2>&1
alice_closed=0 bob_closed=0
wait_event alice CALL_CLOSED 2 10 && alice_closed=1
for ((i = 0; i < 100; i++)); do
    if events bob CALL_CLOSED | grep -q 'sip:park@'; then bob_closed=1; break; fi
    sleep 0.1
done
if ((alice_closed && bob_closed)); then
    record ringback-hangup pass "alice hung up; CALL_CLOSED on alice and on bob's park call"
else
    record ringback-hangup fail "CALL_CLOSED: alice $alice_closed, bob's park call $bob_closed; traces in $OUT/*/baresip.log"
fi
finish $((INTEROP_FAILURES == 0 ? 0 : 1))
