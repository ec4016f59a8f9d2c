#!/usr/bin/env bash
# The park application with linphone-daemon (linphone-cli 5.1), the phone that honours Replaces:
#   way 1    a sipp parker (sipp/park-parker.xml) calls linphone bob and REFERs the park service with Replaces;
#            bob's linphone accepts the park's INVITE with Replaces and ends alice's call.
#   transfer out   linphone carol dials the orbit; both advertise Supported: replaces, so the park service answers
#            carol (a=inactive) and REFERs bob to carol with Replaces; bob calls carol, carol swaps the park call for
#            it, the park ends its legs. park_check.py transfer-out reads both daemons' SIP logs.
#   hang-up  carol hangs up; bob's call ends.
#   way 2    linphone alice calls bob and blind-transfers him to sip:park@callpark.lab (call-transfer ID URI);
#            she gets the park's MESSAGE naming the orbit, and GET /parked names her as the parker.
#   unpark   DELETE /parked/{orbit} (the admin API): the park service ends bob's call and frees the orbit.
# linphone-daemon cannot play the parker of way 1: it has no command for an out-of-dialog REFER, and its attended
# transfer (call-transfer ID1 ID2) needs a second call to the park service (see README.md).
# Starts pool-a unless run-all.sh (or you) gave one in INTEROP_POOL_A_SIP=127.0.0.1:5060.
# Results: tools/interop/results.tsv (see README.md).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_if_ci_runs_all
interop_init park-linphone
require_tools linphone-daemon sipp python3 curl sipsak || exit 1

SIPP_DIR="$INTEROP_DIR/sipp"
OUT="$INTEROP_TMP/park-linphone"
CHECK=("python3" "$INTEROP_DIR/park_check.py")
LIFETIME=${INTEROP_LINPHONE_LIFETIME:-120} # seconds each linphone-daemon may live at most (a bound; stopped by PID)

use_or_start_pool_a || exit 1
POOL="127.0.0.1:$POOL_A_SIP_PORT"
mkdir -p "$OUT"

declare -A LP_PID=() LP_HOLDER=() LP_PORT=()

# lp_start NAME PASSWORD SIP_PORT RTP_BASE [--auto-answer]: a linphone-daemon with its own HOME under $OUT/NAME
# (run RUN), registered to pool-a, which is also its outbound proxy; commands go through the FIFO $dir/cmd, kept
# open by a holder process; responses and events go to $dir/out.log, the SIP trace to $dir/daemon.log.
lp_start() {
    local name=$1 pass=$2 port=$3 rtp=$4 run=$5
    shift 5
    local dir="$OUT/$run/$name"
    mkdir -p "$dir/.local/share/linphone"
    cat >"$dir/linphonerc" <<EOF
[sip]
sip_port=$port
sip_tcp_port=-1
sip_tls_port=-1
bind_address=127.0.0.1
default_proxy=0
[rtp]
audio_rtp_port=$rtp-$((rtp + 19))
[net]
firewall_policy=0
[proxy_0]
reg_proxy=<sip:127.0.0.1:$POOL_A_SIP_PORT;transport=udp>
reg_route=<sip:127.0.0.1:$POOL_A_SIP_PORT;transport=udp;lr>
reg_identity=sip:$name@callpark.lab
reg_expires=300
reg_sendregister=1
[auth_info_0]
username=$name
userid=$name
passwd=$pass
realm=callpark.lab
[misc]
enable_video=0
[video]
automatically_initiate=0
automatically_accept=0
EOF
    mkfifo "$dir/cmd"
    sleep "$LIFETIME" >"$dir/cmd" &
    LP_HOLDER[$name]=$!
    track_pid $!
    HOME="$dir" timeout -k 5 "$LIFETIME" linphone-daemon --config "$dir/linphonerc" --log "$dir/daemon.log" \
        --disable-stats-events "$@" <"$dir/cmd" >"$dir/out.log" 2>&1 &
    LP_PID[$name]=$!
    LP_PORT[$name]=$port
    LP_DIR[$name]=$dir
    track_pid $!
}
declare -A LP_DIR=()

lp_stop() {
    local name=$1
    [[ -n "${LP_PID[$name]:-}" ]] || return 0
    lp_cmd "$name" quit 2>/dev/null
    stop_pid "${LP_PID[$name]}" 30
    stop_pid "${LP_HOLDER[$name]}" 10
    unset "LP_PID[$name]" "LP_HOLDER[$name]"
}

# lp_cmd NAME COMMAND: one command line into the daemon's FIFO. Bounded: opening a FIFO whose reader has died
# would block for ever.
lp_cmd() { timeout 3 sh -c 'printf "%s\n" "$1" >"$2"' _ "$2" "${LP_DIR[$1]}/cmd"; }

# lp_events NAME: the daemon's call events so far, one a line: event<TAB>From<TAB>call id.
lp_events() {
    tr -d '\r' <"${LP_DIR[$1]}/out.log" 2>/dev/null | awk '
        /^Event: / { e = $2; f = ""; next }
        /^From: / && e != "" { f = substr($0, 7); next }
        /^Id: / && e != "" { print e "\t" f "\t" $2; e = "" }'
}

# lp_wait NAME EVENT FROM_REGEX TIMEOUT: until an EVENT whose From matches FROM_REGEX (bounded, 0.2 s steps).
lp_wait() {
    local name=$1 event=$2 from=$3 tries=$(($4 * 5)) i
    for ((i = 0; i < tries; i++)); do
        if lp_events "$name" | awk -F'\t' -v e="$event" -v f="$from" '$1 == e && $2 ~ f { found = 1 } END { exit !found }'; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

# lp_registered NAME: register-status says LinphoneRegistrationOk (bounded, 20 x 0.5 s).
lp_registered() {
    local name=$1 i
    for ((i = 0; i < 20; i++)); do
        lp_cmd "$name" "register-status ALL"
        sleep 0.5
        if grep -q 'State: LinphoneRegistrationOk' "${LP_DIR[$name]}/out.log"; then return 0; fi
    done
    return 1
}

lp_port() {
    local port
    port=$(free_port "$1") || return 1
    echo "$port"
}

event_summary() { lp_events "$1" | awk -F'\t' '{ printf "%s%s(%s)", (NR > 1 ? ", " : ""), $1, $2 }' | cut -c1-400; }

orbit_listed() { curl -fsS -m 3 "$POOL_A_ADMIN/parked" 2>/dev/null | grep -qE "\"orbit\": *\"?$1\"?"; }

# ================================================================ run 1: way 1, transfer out, hang-up

run1() {
    local bob_port carol_port
    bob_port=$(lp_port 15600) && carol_port=$(lp_port $((bob_port + 10))) ||
        { record linphone-park-way1 fail "no free ports"; return 1; }
    lp_start bob bob-lab-pw "$bob_port" 16600 run1 --auto-answer
    lp_start carol carol-lab-pw "$carol_port" 16640 run1
    local p
    for p in bob carol; do
        if ! lp_registered "$p"; then
            record linphone-park-way1 fail "$p's linphone did not register; log in ${LP_DIR[$p]}/daemon.log"
            return 1
        fi
    done
    log "linphone bob on $bob_port (auto-answer), carol on $carol_port; logs in $OUT/run1"

    # way 1: a sipp alice calls bob and parks him.
    local alice_rc=0 orbit=""
    timeout -k 5 40 sipp -sf "$SIPP_DIR/park-parker.xml" -s bob -au alice -ap alice-lab-pw -cid_str 'park-%u-%p' -default_behaviors all,-abortunexp \
        -key orbit_file "$OUT/run1/orbit" -i 127.0.0.1 -p "$(free_port 15650)" -m 1 -recv_timeout 10000 -nostdin \
        -trace_msg -message_file "$OUT/run1/alice.messages.log" -trace_err -error_file "$OUT/run1/alice.errors.log" \
        "$POOL" >"$OUT/run1/alice.screen.log" 2>&1 </dev/null || alice_rc=$?
    [[ -f "$OUT/run1/orbit" ]] && orbit=$(tr -d ' \r\n' <"$OUT/run1/orbit")
    "${CHECK[@]}" way1 --parker "$OUT/run1/alice.messages.log" --orbit "${orbit:-none}" --pool-port "$POOL_A_SIP_PORT" \
        >"$OUT/run1/check-way1.txt" 2>&1
    local check_rc=$?
    local bob_parked=0 bob_ended=0
    # Connected, not StreamsRunning: the park's offer is a=sendonly, so linphone reports the call paused by remote.
    lp_wait bob LinphoneCallConnected "sip:${orbit:-none}@" 5 && bob_parked=1
    lp_wait bob LinphoneCallEnd "sip:alice@" 5 && bob_ended=1
    if ((alice_rc == 0 && check_rc == 0 && bob_parked && bob_ended)); then
        record linphone-park-way1 pass "sipp alice parked linphone bob on $orbit: 202, NOTIFY 100/200, linphone accepted the park's INVITE with Replaces (call from sip:$orbit@ connected) and ended alice's call"
    else
        record linphone-park-way1 fail "sipp alice exit $alice_rc; $(grep -m2 '^FAIL' "$OUT/run1/check-way1.txt" | paste -sd ';' -); bob's call from the orbit connected: $bob_parked, alice's call ended: $bob_ended; bob's events: $(event_summary bob)"
        return 1
    fi

    # transfer out: carol dials the orbit.
    log "carol dials orbit $orbit"
    lp_cmd carol "call sip:$orbit@callpark.lab"
    local carol_with_bob=0 bob_park_ended=0 listed=""
    lp_wait carol LinphoneCallStreamsRunning "sip:bob@" 10 && carol_with_bob=1
    lp_wait bob LinphoneCallEnd "sip:$orbit@" 5 && bob_park_ended=1
    sleep 0.5
    orbit_listed "$orbit" && listed="; GET /parked still lists $orbit"
    "${CHECK[@]}" transfer-out --parked "${LP_DIR[bob]}/daemon.log" --retriever "${LP_DIR[carol]}/daemon.log" \
        --orbit "$orbit" >"$OUT/run1/check-transfer-out.txt" 2>&1
    check_rc=$?
    if ((check_rc == 0 && carol_with_bob && bob_park_ended)) && [[ -z "$listed" ]]; then
        record linphone-park-transfer-out pass "carol dialled $orbit: park answered a=inactive, REFERred bob with Replaces of carol's dialog, bob's INVITE replaced it (carol now in a call from bob), the park ended bob's park leg; $(grep -c '^ok' "$OUT/run1/check-transfer-out.txt") checks ok$(grep '^note' "$OUT/run1/check-transfer-out.txt" | cut -c1-160 | sed 's/^/; /')"
    else
        record linphone-park-transfer-out fail "$(grep '^FAIL' "$OUT/run1/check-transfer-out.txt" | sed 's/^FAIL //' | head -4 | paste -sd ';' -); carol in a call from bob: $carol_with_bob, bob's park call ended: $bob_park_ended$listed; carol's events: $(event_summary carol); logs in $OUT/run1"
    fi

    # hang-up: carol ends whatever call she has now; bob's last call ends too.
    log "carol hangs up"
    lp_cmd carol "terminate"
    local carol_end=0 bob_end=0 before
    lp_wait carol LinphoneCallReleased "." 5 && carol_end=1
    before=$(lp_events bob | awk -F'\t' '$1 == "LinphoneCallEnd"' | wc -l)
    for ((i = 0; i < 25; i++)); do
        lp_cmd bob "call-status"
        sleep 0.2
        if tail -3 "${LP_DIR[bob]}/out.log" | grep -q 'No current call available'; then bob_end=1; break; fi
    done
    if ((carol_end && bob_end)); then
        record linphone-park-hangup pass "carol hung up; bob has no call left (call-status: No current call available)"
    else
        record linphone-park-hangup fail "carol's call released: $carol_end, bob without a call: $bob_end ($before call end(s)); bob's events: $(event_summary bob)"
    fi
    lp_stop bob
    lp_stop carol
}

# ================================================================ run 2: way 2 with linphone as the parker

run2() {
    local alice_port bob_port
    alice_port=$(lp_port 15700) && bob_port=$(lp_port $((alice_port + 10))) ||
        { record linphone-park-way2 fail "no free ports"; return 1; }
    lp_start alice alice-lab-pw "$alice_port" 16700 run2
    lp_start bob bob-lab-pw "$bob_port" 16740 run2 --auto-answer
    local p
    for p in alice bob; do
        if ! lp_registered "$p"; then
            record linphone-park-way2 fail "$p's linphone did not register; log in ${LP_DIR[$p]}/daemon.log"
            return 1
        fi
    done
    log "linphone alice on $alice_port, bob on $bob_port (auto-answer); logs in $OUT/run2"
    lp_cmd alice "call sip:bob@callpark.lab"
    if ! lp_wait alice LinphoneCallStreamsRunning "." 10; then
        record linphone-park-way2 fail "alice's call to bob did not start; alice's events: $(event_summary alice)"
        return 1
    fi
    sleep 0.5
    log "alice transfers bob to sip:park@callpark.lab"
    lp_cmd alice "call-transfer 1 sip:park@callpark.lab"
    local parked=0 text="" orbit=""
    lp_wait bob LinphoneCallConnected "sip:bob@" 10 && parked=1
    for ((i = 0; i < 25; i++)); do
        text=$(grep -aoE 'parked on orbit [0-9]+' "${LP_DIR[alice]}/out.log" | head -1)
        [[ -n "$text" ]] && break
        sleep 0.2
    done
    orbit=${text##* }
    local header
    header=$(grep -aoE '^X-Park-Orbit: *[0-9]+' "${LP_DIR[alice]}/daemon.log" | head -1 | grep -oE '[0-9]+$')
    local parker
    parker=$(curl -fsS -m 3 "$POOL_A_ADMIN/parked" 2>/dev/null | python3 -c '
import json, sys
try: data = json.load(sys.stdin)
except ValueError: sys.exit(0)
for e in (data if isinstance(data, list) else data.get("parked", [])):
    if str(e.get("orbit")) == sys.argv[1]: print(e.get("parker"))' "${orbit:-none}" 2>/dev/null)
    if ((parked)) && [[ -n "$orbit" && "$header" == "$orbit" && "$parker" == *alice@callpark.lab* ]]; then
        record linphone-park-way2 pass "alice (linphone) blind-transferred bob to sip:park@callpark.lab; bob's call to the park is connected; alice got a MESSAGE '$text' with X-Park-Orbit: $header; /parked names $parker as the parker"
    else
        record linphone-park-way2 fail "bob's call to the park connected: $parked; MESSAGE text '${text:-none}', X-Park-Orbit '${header:-none}'; /parked parker '${parker:-none}'; bob's events: $(event_summary bob); logs in $OUT/run2"
    fi

    # The operator unparks the orbit (admin API): the park service ends bob's call, and the orbit is free.
    if [[ -n "$orbit" ]]; then
        local code bob_end=0 listed=""
        code=$(curl -sS -m 5 -o "$OUT/run2/unpark.txt" -w '%{http_code}' -X DELETE "$POOL_A_ADMIN/parked/$orbit" 2>&1)
        lp_wait bob LinphoneCallEnd "sip:bob@" 10 && bob_end=1
        orbit_listed "$orbit" && listed="; GET /parked still lists $orbit"
        if [[ "$code" == 2* ]] && ((bob_end)) && [[ -z "$listed" ]]; then
            record linphone-park-unpark pass "DELETE /parked/$orbit answered $code; bob's call to the park ended (BYE from the park); the orbit is free"
        else
            record linphone-park-unpark fail "DELETE /parked/$orbit answered '$code' ($(head -c 200 "$OUT/run2/unpark.txt" 2>/dev/null)); bob's park call ended: $bob_end$listed; bob's events: $(event_summary bob)"
        fi
    fi
    lp_stop alice
    lp_stop bob
    return 0
}

run1
run2
((INTEROP_FAILURES == 0))
