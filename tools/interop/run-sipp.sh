#!/usr/bin/env bash
# sipp and sipsak against pool-a: REGISTER with digest, 100 authenticated calls alice -> bob through the proxy,
# an unauthenticated `sipp -sn uac`, and an OPTIONS ping. Starts pool-a unless run-all.sh (or you) gave one in
# INTEROP_POOL_A_SIP=127.0.0.1:5060. Results: tools/interop/results.tsv (see README.md).
#
#   tools/interop/run-sipp.sh                   all scenarios
#   tools/interop/run-sipp.sh register call     only these (register, call, third-party, uac-unauth, options, cross-pool)
# cross-pool (alice on pool-a calls erin registered on pool-b) runs when INTEROP_POOL_B_SIP names pool-b.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_if_ci_runs_all
interop_init sipp
require_tools sipp sipsak python3 || exit 1

SIPP_DIR="$INTEROP_DIR/sipp"
OUT="$INTEROP_TMP/sipp"
CALLS=${INTEROP_SIPP_CALLS:-100}
RATE=${INTEROP_SIPP_RATE:-20}

use_or_start_pool_a || exit 1
POOL="127.0.0.1:$POOL_A_SIP_PORT"

# counts NAME: "successful=N failed=M" from the final statistics screen.
counts() {
    awk -F'|' '/Successful call/ { gsub(/ /, "", $3); s = $3 } /Failed call/ { gsub(/ /, "", $3); f = $3 }
        END { printf "successful=%s failed=%s", (s == "" ? "?" : s), (f == "" ? "?" : f) }' "$OUT/$1.screen.log"
}

scenario_register() {
    local name=sipp-register-digest rc=0
    run_sipp "$name" 30 -sf "$SIPP_DIR/register.xml" -s alice -au alice -ap alice-lab-pw \
        -p "$(free_port 15070)" -m 1 -recv_timeout 5000 "$POOL" || rc=$?
    if ((rc == 0)); then
        record "$name" pass "401 then 200 with X-Registration-Mode: normal ($(counts "$name"))"
    else
        record "$name" fail "sipp exit $rc ($(counts "$name")) $(first_error "$name"); traces in $OUT/$name.*"
    fi
}

# call_test NAME CALLEE PASSWORD REGISTRAR CALLS RATE [third-party]: CALLEE's sipp UAS is registered at REGISTRAR
# (host:port) with a Contact on the port it then listens on: by a REGISTER from that same port, or with
# "third-party" by a separate sipp REGISTER from another port (the pool must send calls to the Contact, not to where
# the REGISTER came from). alice's sipp UAC places CALLS calls at RATE/s to sip:CALLEE@callpark.lab through pool-a.
# Passes when both sipp processes exit 0.
call_test() {
    local name=$1 callee=$2 pass=$3 registrar=$4 calls=$5 rate=$6 mode=${7:-} rc=0 uas_rc=0
    local uas_port reg_port
    uas_port=$(free_port 15080) || { record "$name" fail "no free port for $callee"; return; }
    local register=(-sf "$SIPP_DIR/register.xml")
    reg_port=$uas_port
    if [[ "$mode" == third-party ]]; then
        reg_port=$(free_port $((uas_port + 10))) || { record "$name" fail "no free port for the REGISTER tool"; return; }
        register=(-sf "$SIPP_DIR/register-third-party.xml" -key contact_port "$uas_port")
    fi

    if ! run_sipp "$name-register-$callee" 30 "${register[@]}" -s "$callee" -au "$callee" -ap "$pass" \
        -p "$reg_port" -m 1 -recv_timeout 5000 "$registrar"; then
        record "$name" fail "$callee's REGISTER at $registrar failed ($(counts "$name-register-$callee")) $(first_error "$name-register-$callee")"
        return
    fi

    timeout -k 5 120 sipp -sf "$SIPP_DIR/uas-answer.xml" -i 127.0.0.1 -p "$uas_port" -m "$calls" -nostdin \
        -timeout 100s -trace_err -error_file "$OUT/$name-uas.errors.log" \
        -trace_msg -message_file "$OUT/$name-uas.messages.log" "$registrar" \
        >"$OUT/$name-uas.screen.log" 2>"$OUT/$name-uas.stderr.log" </dev/null &
    local uas_pid=$!
    track_pid "$uas_pid"
    sleep 0.5

    run_sipp "$name" 120 -sf "$SIPP_DIR/uac-call.xml" -s "$callee" -au alice -ap alice-lab-pw \
        -p "$(free_port 15090)" -r "$rate" -m "$calls" -l 100 -recv_timeout 10000 "$POOL" || rc=$?

    # The UAS ends by itself after its last BYE; give it a bounded moment, then stop it.
    local i
    for ((i = 0; i < 100; i++)); do kill -0 "$uas_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$uas_pid" 2>/dev/null; then
        stop_pid "$uas_pid"
        uas_rc=124
    else
        wait "$uas_pid" || uas_rc=$?
    fi

    local detail="uac $(counts "$name"), uas $(counts "$name-uas")"
    [[ "$mode" == third-party ]] && detail="registered from port $reg_port for a Contact on port $uas_port; $detail"
    if ((rc == 0 && uas_rc == 0)); then
        record "$name" pass "$calls calls at $rate/s: INVITE/407/ACK/INVITE/180/200/ACK/BYE/200, $detail"
    else
        record "$name" fail "uac exit $rc, uas exit $uas_rc; $detail; uac: $(first_error "$name") uas: $(first_error "$name-uas"); traces in $OUT/$name*"
    fi
}

scenario_call() { call_test sipp-call-alice-bob bob bob-lab-pw "$POOL" "$CALLS" "$RATE"; }

# carol's sipp UAS listens on one port and a separate sipp registers it from another (third-party registration,
# RFC 3261 §10.2): every one of alice's 20 calls must reach the UAS at its Contact (Pool:Registrar:NatTraversal=Auto).
scenario_third_party() { call_test sipp-third-party-register carol carol-lab-pw "$POOL" 20 10 third-party; }

# erin's home is pool-b: she registers there, and alice's call through pool-a must be forwarded to pool-b.
scenario_cross_pool() {
    if [[ -z "${INTEROP_POOL_B_SIP:-}" ]]; then
        record sipp-call-cross-pool fail "no pool-b (run-all.sh starts one; or set INTEROP_POOL_B_SIP=127.0.0.1:5062)"
        return
    fi
    call_test sipp-call-cross-pool erin erin-lab-pw "$INTEROP_POOL_B_SIP" 10 5
}

scenario_uac_unauth() {
    local name=sipp-sn-uac-unregistered rc=0
    run_sipp "$name" 30 -sn uac -p "$(free_port 15100)" -m 1 -recv_timeout 5000 "$POOL" || rc=$?
    # sipp's built-in uac expects 100/180/200; any final response to its INVITE is what this checks.
    local final
    # Everything starting "SIP/2.0 " in a UAC's message log is a response it received.
    final=$(grep -m1 -E '^SIP/2\.0 [3-6][0-9]{2}' "$OUT/$name.messages.log" 2>/dev/null | tr -d '\r')
    if [[ -z "$final" ]]; then
        record "$name" fail "no final response to the INVITE (sipp exit $rc); traces in $OUT/$name.*"
    elif ! pool_alive pool-a && [[ -z "${INTEROP_POOL_A_SIP:-}" ]]; then
        record "$name" fail "got '$final' but the pool process is gone"
    elif ! sip_answers "$POOL_A_SIP_PORT"; then
        record "$name" fail "got '$final' but the pool no longer answers OPTIONS"
    else
        record "$name" pass "final '$final' (sipp exit $rc), pool still answers OPTIONS"
    fi
}

scenario_options() {
    local name=sipsak-options rc=0
    timeout 10 sipsak -vv -s "sip:ping@127.0.0.1:$POOL_A_SIP_PORT" -H 127.0.0.1 >"$OUT/$name.log" 2>&1 || rc=$?
    local status
    status=$(grep -oE 'SIP/2\.0 [0-9]{3}[^\r]*' "$OUT/$name.log" | tail -1)
    if ((rc == 0)); then
        record "$name" pass "sip:ping@127.0.0.1:$POOL_A_SIP_PORT answered '$status'"
    else
        record "$name" fail "sipsak exit $rc, last status '${status:-none}'; output in $OUT/$name.log"
    fi
}

scenarios=("$@")
if ((${#scenarios[@]} == 0)); then
    scenarios=(register call third-party uac-unauth options)
    [[ -n "${INTEROP_POOL_B_SIP:-}" ]] && scenarios+=(cross-pool)
fi
for s in "${scenarios[@]}"; do
    case $s in
        register) scenario_register ;;
        call) scenario_call ;;
        third-party) scenario_third_party ;;
        uac-unauth) scenario_uac_unauth ;;
        options) scenario_options ;;
        cross-pool) scenario_cross_pool ;;
        *) echo "unknown scenario '$s' (register, call, third-party, uac-unauth, options, cross-pool)" >&2; exit 2 ;;
    esac
done
((INTEROP_FAILURES == 0))
