#!/usr/bin/env bash
# Two baresip 1.0 softphones against pool-a: alice and bob register (digest), alice dials sip:bob@callpark.lab,
# bob answers automatically, both report CALL_ESTABLISHED, alice hangs up, both report CALL_CLOSED. Every check
# is on baresip's own ctrl_tcp events (tools/interop/baresip_ctl.py). Starts pool-a unless run-all.sh (or you)
# gave one in INTEROP_POOL_A_SIP=127.0.0.1:5060. Results: tools/interop/results.tsv (see README.md).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_if_ci_runs_all
interop_init baresip
require_tools baresip python3 sipsak || exit 1

CTL=("python3" "$INTEROP_DIR/baresip_ctl.py")
OUT="$INTEROP_TMP/baresip"
LIFETIME=${INTEROP_BARESIP_LIFETIME:-90} # seconds each baresip and its session may live at most

use_or_start_pool_a || exit 1

event_param() { python3 -c 'import json,sys; e=json.loads(sys.stdin.read() or "{}"); print(e.get("param",""))'; }

alice_port=$(pick_sip_port 15300) || { record baresip-register fail "no free SIP ports for alice"; exit 1; }
start_phone alice alice-lab-pw manual "$alice_port" 16100
bob_port=$(pick_sip_port $((alice_port + 10))) || { record baresip-register fail "no free SIP ports for bob"; exit 1; }
start_phone bob bob-lab-pw auto "$bob_port" 16200
log "alice on 127.0.0.1:$alice_port, bob on 127.0.0.1:$bob_port (ctrl_tcp on +4), logs in $OUT"

# 1. Both register.
alice_reg=0 bob_reg=0
alice_info=$(registered alice) || alice_reg=$?
bob_info=$(registered bob) || bob_reg=$?
admin_note=""
if regs=$(curl -fsS -m 3 "$POOL_A_ADMIN/registrations" 2>/dev/null); then
    for u in alice bob; do
        if grep -qi "sip:$u@callpark.lab" <<<"$regs"; then admin_note+=" $u"; fi
    done
    admin_note="; admin /registrations lists:${admin_note:- neither}"
fi
if ((alice_reg == 0 && bob_reg == 0)); then
    record baresip-register pass "alice and bob registered (baresip reginfo OK)$admin_note"
else
    fail_events=$(grep -h '"REGISTER_FAIL"' "$OUT"/*/ctl/events.jsonl 2>/dev/null | head -1 | event_param)
    record baresip-register fail "alice ${alice_info:-OK}, bob ${bob_info:-OK}; REGISTER_FAIL: ${fail_events:-none}$admin_note; SIP traces in $OUT/*/baresip.log"
    exit 1
fi

# 2. alice dials bob; bob's account answers by itself; both see the call established.
if ! dial_out=$("${CTL[@]}" send --dir "$OUT/alice/ctl" --timeout 5 dial sip:bob@callpark.lab 2>&1); then
    record baresip-call fail "alice's dial command failed: $dial_out"
    exit 1
fi
est_ok=1
for p in alice bob; do
    "${CTL[@]}" wait --dir "$OUT/$p/ctl" --timeout 15 CALL_ESTABLISHED >"$OUT/$p/established.json" 2>&1 || est_ok=0
done
if ((est_ok)); then
    record baresip-call pass "alice dialled sip:bob@callpark.lab; CALL_ESTABLISHED on both (bob auto-answer)"
else
    why=$(grep -h '"CALL_CLOSED"' "$OUT"/*/ctl/events.jsonl 2>/dev/null | head -1 | event_param)
    record baresip-call fail "CALL_ESTABLISHED missing: alice $(tail -1 "$OUT/alice/established.json"), bob $(tail -1 "$OUT/bob/established.json"); closed with '${why:-}'; traces in $OUT/*/baresip.log"
    exit 1
fi

# 3. alice hangs up; both see the call closed.
sleep 1
"${CTL[@]}" send --dir "$OUT/alice/ctl" --timeout 5 hangup >/dev/null 2>&1
closed_ok=1
for p in alice bob; do
    "${CTL[@]}" wait --dir "$OUT/$p/ctl" --timeout 15 CALL_CLOSED >"$OUT/$p/closed.json" 2>&1 || closed_ok=0
done
if ((closed_ok)); then
    record baresip-hangup pass "alice hung up; CALL_CLOSED on both (bob: '$(event_param <"$OUT/bob/closed.json")')"
else
    record baresip-hangup fail "CALL_CLOSED missing: alice $(tail -1 "$OUT/alice/closed.json"), bob $(tail -1 "$OUT/bob/closed.json"); traces in $OUT/*/baresip.log"
fi
((INTEROP_FAILURES == 0))
