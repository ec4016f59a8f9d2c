#!/usr/bin/env bash
# The park application (docs/design.md section 5) with sipp playing every party, against pool-a:
#   way 1   alice (park-parker.xml) calls bob (park-parked.xml) and REFERs sip:park@callpark.lab with Replaces of
#           that call; the park service answers 202 + X-Park-Orbit, NOTIFYs, INVITEs bob with Replaces; bob ends
#           alice's call. park_check.py checks the messages' contents.
#   bridge  carol (park-retriever.xml) dials the orbit; bob does not advertise Supported: replaces, so the park
#           service re-INVITEs bob with carol's offer and relays carol's BYE.
#   freed   the orbit is empty again: an INVITE to it gets 404 with a Warning (park-empty-orbit.xml).
# Starts pool-a unless run-all.sh (or you) gave one in INTEROP_POOL_A_SIP=127.0.0.1:5060.
# Results: tools/interop/results.tsv (see README.md).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_if_ci_runs_all
interop_init park-sipp
require_tools sipp sipsak python3 curl || exit 1

SIPP_DIR="$INTEROP_DIR/sipp"
OUT="$INTEROP_TMP/park-sipp"
CHECK=("python3" "$INTEROP_DIR/park_check.py")

use_or_start_pool_a || exit 1
POOL="127.0.0.1:$POOL_A_SIP_PORT"

# check_detail FILE: the first FAIL line of a park_check.py output, or its ok count.
check_detail() {
    local fails
    fails=$(grep -m3 '^FAIL' "$1" | sed 's/^FAIL //' | paste -sd ';' -)
    if [[ -n "$fails" ]]; then echo "$fails"; else echo "$(grep -c '^ok' "$1") content checks ok"; fi
}

mkdir -p "$OUT"
bob_port=$(free_port 15400) || { record sipp-park-way1 fail "no free port for bob"; exit 1; }
log "bob (parked party) on 127.0.0.1:$bob_port; traces in $OUT"

# ---------------------------------------------------------------- way 1

if ! run_sipp park-register-bob 30 -sf "$SIPP_DIR/register.xml" -s bob -au bob -ap bob-lab-pw -p "$bob_port" \
    -m 1 -recv_timeout 5000 "$POOL"; then
    record sipp-park-way1 fail "bob's REGISTER failed: $(first_error park-register-bob)"
    exit 1
fi

timeout -k 5 90 sipp -sf "$SIPP_DIR/park-parked.xml" -i 127.0.0.1 -p "$bob_port" -m 2 -nostdin -recv_timeout 20000 \
    -trace_err -error_file "$OUT/park-bob.errors.log" -trace_msg -message_file "$OUT/park-bob.messages.log" \
    "$POOL" >"$OUT/park-bob.screen.log" 2>"$OUT/park-bob.stderr.log" </dev/null &
bob_pid=$!
track_pid "$bob_pid"
sleep 0.5

alice_rc=0
run_sipp park-alice 40 -sf "$SIPP_DIR/park-parker.xml" -s bob -au alice -ap alice-lab-pw -cid_str 'park-%u-%p' -default_behaviors all,-abortunexp \
    -key orbit_file "$OUT/orbit" -p "$(free_port 15410)" -m 1 -recv_timeout 10000 "$POOL" || alice_rc=$?
orbit=""; [[ -f "$OUT/orbit" ]] && orbit=$(tr -d ' \r\n' <"$OUT/orbit")

way1_ok=0
"${CHECK[@]}" way1 --parker "$OUT/park-alice.messages.log" --parked "$OUT/park-bob.messages.log" \
    --orbit "${orbit:-none}" --pool-port "$POOL_A_SIP_PORT" >"$OUT/check-way1.txt" 2>&1
check_rc=$?
if ((alice_rc == 0 && check_rc == 0)); then
    way1_ok=1
    record sipp-park-way1 pass "REFER+Replaces -> 407 -> 202 X-Park-Orbit: $orbit -> NOTIFY 100/200 -> park INVITE with Replaces to bob -> bob's BYE to alice; $(check_detail "$OUT/check-way1.txt")"
else
    record sipp-park-way1 fail "alice's sipp exit $alice_rc ($(first_error park-alice); last received: $(last_received park-alice)); $(check_detail "$OUT/check-way1.txt"); traces in $OUT"
fi

# The admin API lists the parked call while it is parked.
if ((way1_ok)); then
    if parked=$(curl -fsS -m 3 "$POOL_A_ADMIN/parked" 2>&1); then
        if grep -qE "(^|[^0-9])$orbit([^0-9]|$)" <<<"$parked"; then
            record sipp-park-admin-parked pass "GET /parked lists orbit $orbit"
        else
            record sipp-park-admin-parked fail "GET /parked does not list orbit $orbit: $(head -c 300 <<<"$parked")"
        fi
    else
        record sipp-park-admin-parked fail "GET $POOL_A_ADMIN/parked failed: $parked"
    fi
fi

# ---------------------------------------------------------------- retrieval by the bridge

if ((way1_ok)); then
    carol_rc=0
    run_sipp park-carol 40 -sf "$SIPP_DIR/park-retriever.xml" -s "$orbit" -au carol -ap carol-lab-pw \
        -p "$(free_port 15420)" -m 1 -recv_timeout 10000 "$POOL" || carol_rc=$?
    # bob's sipp ends by itself after the relayed BYE (its second call); give it a bounded moment.
    bob_rc=0
    for ((i = 0; i < 50; i++)); do kill -0 "$bob_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$bob_pid" 2>/dev/null; then
        stop_pid "$bob_pid"
        bob_rc=124
    else
        wait "$bob_pid" || bob_rc=$?
    fi
    "${CHECK[@]}" bridge --parked "$OUT/park-bob.messages.log" --retriever "$OUT/park-carol.messages.log" \
        >"$OUT/check-bridge.txt" 2>&1
    check_rc=$?
    if ((carol_rc == 0 && bob_rc == 0 && check_rc == 0)); then
        record sipp-park-retrieve-bridge pass "carol dialled $orbit -> 407 -> 200 with bob's answer; bob re-INVITEd with carol's offer; carol's BYE relayed to bob; $(check_detail "$OUT/check-bridge.txt")"
    else
        record sipp-park-retrieve-bridge fail "carol's sipp exit $carol_rc ($(first_error park-carol); last received: $(last_received park-carol)), bob's exit $bob_rc ($(first_error park-bob)); $(check_detail "$OUT/check-bridge.txt"); traces in $OUT"
    fi

    # The orbit is free again.
    empty_rc=0
    run_sipp park-empty 30 -sf "$SIPP_DIR/park-empty-orbit.xml" -s "$orbit" -au carol -ap carol-lab-pw \
        -p "$(free_port 15430)" -m 1 -recv_timeout 5000 "$POOL" || empty_rc=$?
    "${CHECK[@]}" empty --log "$OUT/park-empty.messages.log" --orbit "$orbit" >"$OUT/check-empty.txt" 2>&1
    check_rc=$?
    still=""
    if parked=$(curl -fsS -m 3 "$POOL_A_ADMIN/parked" 2>/dev/null) && grep -qE "(^|[^0-9])$orbit([^0-9]|$)" <<<"$parked"; then
        still="GET /parked still lists $orbit"
    fi
    if ((empty_rc == 0 && check_rc == 0)) && [[ -z "$still" ]]; then
        record sipp-park-orbit-freed pass "after the retrieval, INVITE to $orbit -> 404 with a Warning naming it; /parked no longer lists it"
    else
        record sipp-park-orbit-freed fail "sipp exit $empty_rc ($(first_error park-empty)); $(check_detail "$OUT/check-empty.txt") ${still}; traces in $OUT/park-empty.*"
    fi
else
    record sipp-park-retrieve-bridge fail "not run: way 1 gave no parked call"
    stop_pid "$bob_pid"
fi
((INTEROP_FAILURES == 0))
