#!/usr/bin/env bash
# Failover with real phones (docs/design.md sections 5 and 7): pool-a and pool-b, partners, both running; three baresip 1.0
# phones (alice, bob, carol) and one linphone-daemon 5.1 (dave), all users of pool-a.
#   register   every phone registers at pool-a (200, X-Registration-Mode: normal); GET /registrations lists them
#   call       alice calls bob through pool-a
#   park       alice blind-transfers bob to sip:park@callpark.lab; GET /parked lists him, alice as the parker
#   retrieve   carol dials the orbit and is bridged to bob; the orbit is free again; carol hangs up
#   kill       kill -9 pool-a (its PID); pool-b declares pool-a's Outage
#   re-register  alice's, bob's and carol's baresip find pool-b by themselves, without a restart: their one account
#              has the domain as outbound proxy, resolved by the lab DNS (tools/lab-dns: _sip._tcp.callpark.lab SRV,
#              pool-a priority 10, pool-b 20); the next re-registration finds pool-a refusing the connection and
#              goes to pool-b: 200 with X-Registration-Mode: resiliency in their SIP trace. The time from the kill
#              to each phone's binding at pool-b is measured. dave's linphone (which cannot be pointed at the lab
#              DNS) is restarted with pool-b first: LinphoneRegistrationOk, the 200 in its log. GET /registrations
#              at pool-b shows the four in resiliency mode
#   resiliency call  alice calls bob and dave through pool-b; both established; hang-up
#   refused park  in resiliency mode alice (baresip) blind-transfers bob to the park, and dave (linphone) carol: the
#              pool answers 202 and ends the subscription (NOTIFY 100, terminated) and tells the parker by MESSAGE;
#              both calls stay up (no CALL_CLOSED / LinphoneCallEnd), then are hung up
#   pcap       both pools ran with --Pool:PcapFile: tshark decodes their SIP and finds nothing malformed
# Starts its own pair on free ports with a copy of config/topology.json (so it runs beside the pools run-all.sh
# started) and short health-probe timings. Results: tools/interop/results.tsv (see README.md).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_if_ci_runs_all
# The whole suite is bounded (INTEROP_FAILOVER_SECONDS, default 240 s): past it, SIGTERM ends it and the EXIT trap
# stops the pools and phones by PID.
if [[ -z "${INTEROP_FAILOVER_BOUNDED:-}" ]]; then
    export INTEROP_FAILOVER_BOUNDED=1
    exec timeout -k 10 "${INTEROP_FAILOVER_SECONDS:-240}" bash "$0" "$@"
fi
interop_init failover-phones
require_tools baresip linphone-daemon python3 sipsak curl || exit 1
[[ -x /usr/sbin/dnsmasq ]] || { record failover-phones-tools fail "missing: /usr/sbin/dnsmasq (apt-get install dnsmasq-base)"; exit 1; }
interop_build || { record failover-phones-pool-start fail "dotnet build failed (see $INTEROP_TMP/build.log)"; exit 1; }

CTL=("python3" "$INTEROP_DIR/baresip_ctl.py")
OUT="$INTEROP_TMP/failover-phones"
LIFETIME=${INTEROP_BARESIP_LIFETIME:-200} # seconds each phone may live at most (a bound; stopped by PID)
mkdir -p "$OUT"

# ---------------------------------------------------------------- the two pools

# INTEROP_FAILOVER_PORT_BASE=B moves every port this suite uses into B..B+599 (two suites side by side, a stress run
# beside other work): pools B.., phones B+100.., phone RTP B+200.., dave's RTP B+320.., the pools' music B+400..
if [[ -n "${INTEROP_FAILOVER_PORT_BASE:-}" ]]; then
    pb=$INTEROP_FAILOVER_PORT_BASE
    port_at=([0]=$pb [1]=$((pb + 2)) [2]=$((pb + 4)) [3]=$((pb + 6)) [4]=$((pb + 100)) [5]=$((pb + 200)) [6]=$((pb + 320)) [7]=$((pb + 400)))
else
    port_at=([0]=15360 [1]=15362 [2]=18360 [3]=18362 [4]=15800 [5]=16800 [6]=16920 [7]=42100)
fi
a_sip=$(free_port "${port_at[0]}") && b_sip=$(free_port "${port_at[1]}") && a_admin=$(free_port "${port_at[2]}") && b_admin=$(free_port "${port_at[3]}") ||
    { record failover-phones-pool-start fail "no free ports"; exit 1; }
python3 - "$REPO_ROOT/config/topology.json" "$OUT/topology.json" "$a_sip" "$a_admin" "$b_sip" "$b_admin" <<'PY'
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
# The shipped health defaults (a probe every 200 ms, down after 1.4 s without an answer): pool-b declares the outage
# about 1.5 s after the kill.
# shellcheck disable=SC2086 # INTEROP_POOL_ARGS is a list of --Key=value overrides
dr_args=("--Pool:TopologyFile=$OUT/topology.json"
    "--Pool:Dr:FailoverDuration=00:00:05" "--Pool:Dr:FailbackDuration=00:00:05")
# shellcheck disable=SC2086
INTEROP_POOL_A_FO_SIP_PORT=$a_sip INTEROP_POOL_A_FO_ADMIN_PORT=$a_admin \
    pool_start pool-a-fo config/pool-a.json "${dr_args[@]}" "--Pool:Park:MediaPorts=${port_at[7]}-$((port_at[7] + 99))" "--Pool:PcapFile=$OUT/pool-a.pcap" ${INTEROP_POOL_ARGS:-} &&
    INTEROP_POOL_B_FO_SIP_PORT=$b_sip INTEROP_POOL_B_FO_ADMIN_PORT=$b_admin \
        pool_start pool-b-fo config/pool-b.json "${dr_args[@]}" "--Pool:Park:MediaPorts=$((port_at[7] + 100))-$((port_at[7] + 199))" "--Pool:PcapFile=$OUT/pool-b.pcap" ${INTEROP_POOL_ARGS:-} ||
    { record failover-phones-pool-start fail "could not start the pools"; exit 1; }
for p in pool-a-fo pool-b-fo; do
    pool_wait_ready "$p" || { record failover-phones-pool-start fail "$p not ready: $POOL_NOT_READY_REASON"; exit 1; }
done
A_ADMIN=${POOL_ADMIN[pool-a-fo]}
B_ADMIN=${POOL_ADMIN[pool-b-fo]}

# wait_phase ADMIN POOL PHASE TENTHS: bounded poll (0.2 s steps) until the phase is PHASE.
wait_phase() {
    local i
    for ((i = 0; i < $4; i++)); do
        [[ "$(dr_phase "$1" "$2")" == "$3" ]] && return 0
        sleep 0.2
    done
    return 1
}
if ! wait_phase "$B_ADMIN" pool-a Normal 75; then
    record failover-phones-pool-start fail "pool-b does not see pool-a as Normal (phase '$(dr_phase "$B_ADMIN" pool-a)'); logs in $OUT/.."
    exit 1
fi
log "pool-a on $a_sip (admin $A_ADMIN, PID ${POOL_PID[pool-a-fo]}), pool-b on $b_sip (admin $B_ADMIN); partners see each other"

# The lab DNS (tools/lab-dns): dnsmasq in the foreground, SRV records for this run's pool ports; stopped by PID.
DNS_PORT=${INTEROP_LAB_DNS_PORT:-5353}
if ! dns_pid=$(LAB_DNS_PORT=$DNS_PORT LAB_POOL_A_PORT=$a_sip LAB_POOL_B_PORT=$b_sip \
    bash "$REPO_ROOT/tools/lab-dns/lab-dns.sh" start "$OUT/dns" 2>"$OUT/dns-start.log"); then
    record failover-lab-dns fail "the lab DNS did not start on 127.0.0.1:$DNS_PORT: $(tr '\n' ' ' <"$OUT/dns-start.log" | cut -c1-200)"
    exit 1
fi
track_pid "$dns_pid"
export BARESIP_DNS_SERVER=127.0.0.1:$DNS_PORT
# Phones re-register every BARESIP_REGINT seconds (libre refreshes at 90 % of the granted expiry): that interval
# bounds how soon one notices pool-a is gone. 60 s is the least the registrar grants (below it: 423).
export BARESIP_REGINT=${INTEROP_FAILOVER_REGINT:-60}

# ---------------------------------------------------------------- phone helpers

# registrations ADMIN: "aor<TAB>mode<TAB>pool" for each binding in GET ADMIN/registrations.
registrations() {
    json_records "$1/registrations" | while IFS= read -r r; do
        printf '%s\t%s\t%s\n' "$(json_field aor <<<"$r")" "$(json_field mode <<<"$r")" "$(json_field pool <<<"$r")"
    done
}
# parked_line ADMIN USER: "orbit<TAB>parked party<TAB>parker" of USER's parked call in GET ADMIN/parked.
parked_line() {
    local r
    r=$(json_records "$1/parked" | grep -F "\"parkedParty\":\"sip:$2@" | head -1)
    [[ -n "$r" ]] && printf '%s\t%s\t%s\n' "$(json_field orbit <<<"$r")" "$(json_field parkedParty <<<"$r")" "$(json_field parker <<<"$r")"
}
orbit_listed() { json_records "$1/parked" | json_field orbit | grep -qx "$2"; }

finish() {
    local pid
    for pid in "${BARESIP_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    exit "$1"
}
events() { grep -h "\"type\": \"$2\"" "$OUT/$1/ctl/events.jsonl" 2>/dev/null; }
field() { sed -n "s/.*\"$1\": \"\([^\"]*\)\".*/\1/p" <<<"$2" | head -1; }
send() { bsend "$@" >/dev/null; }
# ok_accounts NAME: how many of NAME's accounts baresip's reginfo shows OK.
ok_accounts() {
    local token
    token=$(bsend "$1" reginfo) || { echo 0; return; }
    bresponse "$1" "$token" | grep -o "sip:$1@callpark.lab *\\\\u001b\\[32mOK" | wc -l
}

# ---- linphone-daemon (dave): HOME, config and FIFO under $OUT/dave-RUN
LP_PID="" LP_HOLDER="" LP_DIR=""
lp_start() { # lp_start RUN FIRST_PORT SECOND_PORT: proxy_0 -> FIRST_PORT (default account), proxy_1 -> SECOND_PORT
    local run=$1 first=$2 second=$3
    LP_DIR="$OUT/dave-$run"
    mkdir -p "$LP_DIR/.local/share/linphone"
    cat >"$LP_DIR/linphonerc" <<EOF
[sip]
sip_port=$DAVE_PORT
sip_tcp_port=-1
sip_tls_port=-1
bind_address=127.0.0.1
default_proxy=0
[rtp]
audio_rtp_port=${port_at[6]}-$((port_at[6] + 19))
[net]
firewall_policy=0
[proxy_0]
reg_proxy=<sip:127.0.0.1:$first;transport=udp>
reg_route=<sip:127.0.0.1:$first;transport=udp;lr>
reg_identity=sip:dave@callpark.lab
reg_expires=300
reg_sendregister=1
[auth_info_0]
username=dave
userid=dave
passwd=dave-lab-pw
realm=callpark.lab
[misc]
enable_video=0
[video]
automatically_initiate=0
automatically_accept=0
EOF
    [[ -n "$second" ]] && printf '[proxy_1]\nreg_proxy=<sip:127.0.0.1:%s;transport=udp>\nreg_route=<sip:127.0.0.1:%s;transport=udp;lr>\nreg_identity=sip:dave@callpark.lab\nreg_expires=300\nreg_sendregister=1\n' \
        "$second" "$second" >>"$LP_DIR/linphonerc"
    mkfifo "$LP_DIR/cmd"
    sleep "$LIFETIME" >"$LP_DIR/cmd" &
    LP_HOLDER=$!
    track_pid $!
    HOME="$LP_DIR" timeout -k 5 "$LIFETIME" linphone-daemon --config "$LP_DIR/linphonerc" --log "$LP_DIR/daemon.log" \
        --disable-stats-events --auto-answer <"$LP_DIR/cmd" >"$LP_DIR/out.log" 2>&1 &
    LP_PID=$!
    track_pid $!
}
lp_cmd() { timeout 3 sh -c 'printf "%s\n" "$1" >"$2"' _ "$1" "$LP_DIR/cmd"; }
lp_stop() {
    [[ -n "$LP_PID" ]] || return 0
    lp_cmd quit 2>/dev/null
    stop_pid "$LP_PID" 30
    stop_pid "$LP_HOLDER" 10
    LP_PID=""
}
# lp_registered ID: register-status ID says LinphoneRegistrationOk (bounded, 20 x 0.5 s).
lp_registered() {
    local i
    for ((i = 0; i < 20; i++)); do
        lp_cmd "register-status $1"
        sleep 0.5
        if grep -q 'State: LinphoneRegistrationOk' "$LP_DIR/out.log"; then return 0; fi
    done
    return 1
}
# lp_wait EVENT FROM_REGEX TENTHS: until the daemon reports EVENT for a call whose From matches (0.2 s steps).
lp_wait() {
    local i
    for ((i = 0; i < $3; i++)); do
        if tr -d '\r' <"$LP_DIR/out.log" | awk -v e="$1" -v f="$2" '/^Event: / { ev = $2; next }
            /^From: / && ev == e && $0 ~ f { found = 1 } END { exit !found }'; then return 0; fi
        sleep 0.2
    done
    return 1
}

# ---------------------------------------------------------------- 1. register at pool-a

ports=()
base=${port_at[4]}
for p in alice bob carol; do
    port=$(pick_sip_port "$base" 40) || { record failover-register fail "no free SIP ports for $p"; exit 1; }
    ports+=("$port")
    base=$((port + 10))
done
DAVE_PORT=$(free_port $((base + 20))) || { record failover-register fail "no free SIP port for dave"; exit 1; }
# start_phone's accounts: one account, the domain as outbound proxy (BARESIP_DNS_SERVER: found by SRV, pool-a first)
start_phone alice alice-lab-pw manual "${ports[0]}" "${port_at[5]}"
start_phone bob bob-lab-pw auto "${ports[1]}" $((port_at[5] + 40))
start_phone carol carol-lab-pw manual "${ports[2]}" $((port_at[5] + 80))
lp_start run1 "$a_sip" ""
log "baresip alice ${ports[0]}, bob ${ports[1]}, carol ${ports[2]}; linphone dave $DAVE_PORT; logs in $OUT"

# registered_at NAME POOL_PORT: NAME's baresip trace shows a 200 to its REGISTER from that pool (bounded, 15 s).
registered_at() {
    local i
    for ((i = 0; i < 75; i++)); do
        sip_responses "$OUT/$1/baresip.log" "$2" | grep -qP '^SIP/2.0 200.*\tCSeq: \d+ REGISTER' && return 0
        sleep 0.2
    done
    return 1
}
reg_fail=""
for p in alice bob carol; do
    registered_at "$p" "$a_sip" || reg_fail+=" $p (REGISTER_FAIL: $(events "$p" REGISTER_FAIL | head -1 | cut -c1-120));"
done
lp_registered 1 || reg_fail+=" dave (linphone: $(grep -m1 'State:' "$LP_DIR/out.log"));"
if [[ -n "$reg_fail" ]]; then
    record failover-register fail "not registered at pool-a:$reg_fail traces in $OUT"
    finish 1
fi
normal_200=0
for i in 0 1 2; do
    name=(alice bob carol)
    sip_responses "$OUT/${name[$i]}/baresip.log" "$a_sip" | grep -P '^SIP/2.0 200.*\tCSeq: \d+ REGISTER\tnormal' -q && normal_200=$((normal_200 + 1))
done
sip_responses "$LP_DIR/daemon.log" "$a_sip" | grep -qP '^SIP/2.0 200.*\tCSeq: \d+ REGISTER\tnormal' && normal_200=$((normal_200 + 1))
listed_a=0
for ((i = 0; i < 10 && listed_a < 4; i++)); do # bounded: the four bindings are stored before the 200s were sent
    regs_a=$(registrations "$A_ADMIN")
    listed_a=$(awk -F'\t' '$2 == "normal" && $3 == "pool-a" { print $1 }' <<<"$regs_a" | sort -u | grep -cE 'sip:(alice|bob|carol|dave)@')
    ((listed_a < 4)) && sleep 0.5
done
if ((normal_200 == 4 && listed_a == 4)); then
    record failover-register pass "baresip alice, bob, carol and linphone dave registered at pool-a: each got a 200 with X-Registration-Mode: normal (their SIP logs); GET /registrations at pool-a lists the 4 in mode normal"
else
    curl -fsS -m 3 "$A_ADMIN/registrations" >"$OUT/registrations-a.json" 2>&1
    record failover-register fail "200 with X-Registration-Mode: normal in $normal_200 of 4 phone logs; pool-a's /registrations lists $listed_a of 4 in mode normal ($(tr '\t\n' ' ;' <<<"$regs_a" | cut -c1-300)); traces in $OUT"
    finish 1
fi

# ---------------------------------------------------------------- 2. call, park, retrieve, hang up (pool-a)

send alice dial sip:bob@callpark.lab >/dev/null 2>&1
if bwait alice CALL_ESTABLISHED 1 15 && bwait bob CALL_ESTABLISHED 1 15; then
    record failover-call pass "alice called bob through pool-a: CALL_ESTABLISHED on both phones"
else
    record failover-call fail "alice's call to bob was not established (alice: $(events alice CALL_CLOSED | head -1 | cut -c1-160)); traces in $OUT"
    finish 1
fi
sleep 1
send alice transfer sip:park@callpark.lab >"$OUT/transfer.txt" 2>&1
park_call=""
bwait bob CALL_ESTABLISHED 2 15 && park_call=$(events bob CALL_ESTABLISHED | sed -n 2p)
bwait alice CALL_CLOSED 1 10
entry=""
for ((i = 0; i < 25; i++)); do
    entry=$(parked_line "$A_ADMIN" bob)
    [[ -n "$entry" ]] && break
    sleep 0.2
done
orbit=$(cut -f1 <<<"$entry")
if [[ "$(field peeruri "${park_call:-{\}}")" == sip:park@callpark.lab* && -n "$orbit" && "$(cut -f3 <<<"$entry")" == *alice@* ]] &&
    events alice CALL_CLOSED | grep -q .; then
    record failover-park pass "alice transferred bob to sip:park@callpark.lab; bob's call to the park established, alice's closed; GET /parked at pool-a: orbit $orbit, parked $(cut -f2 <<<"$entry"), parker $(cut -f3 <<<"$entry")"
else
    record failover-park fail "bob's call to the park: '${park_call:-none}'; GET /parked: '${entry:-nothing for bob}'; alice CALL_CLOSED: '$(events alice CALL_CLOSED | head -1 | cut -c1-120)'; traces in $OUT"
    finish 1
fi

sleep 0.5
send carol dial "sip:$orbit@callpark.lab" >/dev/null 2>&1
carol_ok=0 freed=0
bwait carol CALL_ESTABLISHED 1 15 && carol_ok=1
for ((i = 0; i < 25; i++)); do
    orbit_listed "$A_ADMIN" "$orbit" || { freed=1; break; }
    sleep 0.2
done
bob_park_closed=$(events bob CALL_CLOSED | grep -c 'sip:park@' || true)
if ((carol_ok && freed && bob_park_closed == 0)); then
    record failover-retrieve pass "carol dialled sip:$orbit@callpark.lab: CALL_ESTABLISHED, bridged to bob's park call (still up); GET /parked no longer lists $orbit"
else
    record failover-retrieve fail "carol established: $carol_ok ('$(events carol CALL_CLOSED | head -1 | cut -c1-120)'); orbit $orbit freed in /parked: $freed; bob's park call closed early: $bob_park_closed; traces in $OUT"
    finish 1
fi
sleep 0.5
send carol hangup >/dev/null 2>&1
carol_closed=0 bob_closed=0
bwait carol CALL_CLOSED 1 10 && carol_closed=1
for ((i = 0; i < 50; i++)); do
    events bob CALL_CLOSED | grep -q 'sip:park@' && { bob_closed=1; break; }
    sleep 0.2
done
if ((carol_closed && bob_closed)); then
    record failover-hangup pass "carol hung up: CALL_CLOSED on carol and on bob's park call"
else
    record failover-hangup fail "CALL_CLOSED: carol $carol_closed, bob's park call $bob_closed; traces in $OUT"
fi

# ---------------------------------------------------------------- 3. kill pool-a

now_ms() { date +%s%3N; }
kill_pid=${POOL_PID[pool-a-fo]}
log "kill -9 pool-a (PID $kill_pid)"
kill -KILL "$kill_pid"
killed_at=$(now_ms)
wait "$kill_pid" 2>/dev/null
unset "POOL_PID[pool-a-fo]"
if wait_phase "$B_ADMIN" pool-a Outage 50; then
    record failover-kill-pool-a pass "kill -9 $kill_pid (pool-a); pool-b's /status: pool-a Outage; its log: '$(grep -m1 -o 'Partner pool pool-a is down.*' "${POOL_DIR[pool-b-fo]}/pool.log")'"
else
    record failover-kill-pool-a fail "pool-b did not declare pool-a's outage in 10 s (phase '$(dr_phase "$B_ADMIN" pool-a)'); see ${POOL_DIR[pool-b-fo]}/pool.log"
    finish 1
fi

# ---------------------------------------------------------------- 4. re-registration at pool-b

# dave: linphone-daemon 5.1 has no setting for a DNS server (liblinphone reads /etc/resolv.conf; only its API takes
# servers), so it cannot use the lab DNS: its phone is restarted with pool-b as the first account, as a user would.
lp_stop
lp_start run2 "$b_sip" "$a_sip"
lp_ok=0
lp_registered 1 && lp_ok=1
# The baresip phones are not touched: each one's next re-registration (due within BARESIP_REGINT s of its last one)
# resolves _sip._tcp.callpark.lab again, finds pool-a refusing the connection and registers at pool-b. Wait on the
# bindings themselves (pool-b's /registrations, polled every 0.2 s), bounded by the interval plus a margin for a
# loaded machine (INTEROP_FAILOVER_REREGISTER_MARGIN, default 20 s).
reregister_deadline=$((SECONDS + BARESIP_REGINT + ${INTEROP_FAILOVER_REREGISTER_MARGIN:-20}))
declare -A moved_ms=()
while ((${#moved_ms[@]} < 3 && SECONDS < reregister_deadline)); do
    regs_b=$(registrations "$B_ADMIN" | awk -F'\t' '$2 == "resiliency" && $3 == "pool-b" { print $1 }')
    for p in alice bob carol; do
        [[ -z "${moved_ms[$p]:-}" ]] && grep -q "sip:$p@" <<<"$regs_b" && moved_ms[$p]=$(($(now_ms) - killed_at))
    done
    ((${#moved_ms[@]} < 3)) && sleep 0.2
done
resilient=() times=""
for p in alice bob carol; do
    sip_responses "$OUT/$p/baresip.log" "$b_sip" | grep -qP '^SIP/2.0 200.*\tCSeq: \d+ REGISTER\tresiliency' && resilient+=("$p")
    times+=" $p ${moved_ms[$p]:-none} ms;"
done
warning=$(sip_responses "$OUT/alice/baresip.log" "$b_sip" | awk -F'\t' '$3 == "resiliency" { print $4; exit }')
printf 'kill-to-pool-b-binding-ms\t%s\n' "$times" >>"$OUT/timings.tsv"
if ((${#resilient[@]} == 3 && ${#moved_ms[@]} == 3)); then
    record failover-reregister-baresip pass "alice, bob and carol (not restarted) moved to pool-b through the lab DNS (SRV pool-a 10, pool-b 20, TCP, regint $BARESIP_REGINT s): 200 with X-Registration-Mode: resiliency in each trace (Warning: $warning); kill -9 to binding at pool-b:$times"
else
    record failover-reregister-baresip fail "200 with X-Registration-Mode: resiliency from pool-b for: ${resilient[*]:-nobody} (of alice bob carol); bindings seen at pool-b:$times within $((BARESIP_REGINT + ${INTEROP_FAILOVER_REREGISTER_MARGIN:-20})) s; DNS queries: $(grep -c 'query\[SRV\]' "$OUT/dns/dnsmasq.log" 2>/dev/null); traces in $OUT"
fi
lp_mode=$(sip_responses "$LP_DIR/daemon.log" "$b_sip" | awk -F'\t' '$1 ~ /^SIP\/2.0 200/ && $2 ~ /REGISTER/ { print $3; exit }')
if ((lp_ok)) && [[ "$lp_mode" == resiliency ]]; then
    record failover-reregister-linphone pass "dave's linphone (restarted, pool-b first) registered at pool-b: LinphoneRegistrationOk, its log shows the 200 with X-Registration-Mode: resiliency"
else
    record failover-reregister-linphone fail "dave: registration ok $lp_ok, X-Registration-Mode in pool-b's 200: '${lp_mode:-none}'; log in $LP_DIR/daemon.log"
fi
listed_b=$(registrations "$B_ADMIN" | awk -F'\t' '$2 == "resiliency" && $3 == "pool-b" { print $1 }' | sort -u | grep -cE 'sip:(alice|bob|carol|dave)@')
if ((listed_b == 4)); then
    record failover-registrations-pool-b pass "GET /registrations at pool-b lists alice, bob, carol and dave in mode resiliency"
else
    record failover-registrations-pool-b fail "GET /registrations at pool-b lists $listed_b of alice, bob, carol, dave in mode resiliency: $(registrations "$B_ADMIN" | tr '\t\n' ' ;' | cut -c1-300)"
fi

# ---------------------------------------------------------------- 5. calls through pool-b in resiliency mode

# watch_up NAME BEFORE SECONDS: NAME's phone reports no CALL_CLOSED beyond BEFORE for SECONDS (0.2 s steps).
watch_up() {
    local i
    for ((i = 0; i < $3 * 5; i++)); do
        (($(bcount "$1" CALL_CLOSED) > $2)) && return 1
        sleep 0.2
    done
    return 0
}
if ((${#resilient[@]} >= 2)); then
    before_a=$(events alice CALL_ESTABLISHED | wc -l) before_b=$(events bob CALL_ESTABLISHED | wc -l)
    send alice dial sip:bob@callpark.lab >/dev/null 2>&1
    via_b=0
    if bwait alice CALL_ESTABLISHED $((before_a + 1)) 15 && bwait bob CALL_ESTABLISHED $((before_b + 1)) 15; then
        # the INVITE's final response came from pool-b
        sip_responses "$OUT/alice/baresip.log" "$b_sip" | grep -qP '^SIP/2.0 200.*\tCSeq: \d+ INVITE' && via_b=1
    fi
    if ((via_b)); then
        record failover-resiliency-call pass "alice called bob through pool-b (her account unchanged, found by DNS): CALL_ESTABLISHED on both, the 200 from pool-b"
        # The refused park keeps the call (docs/design.md §7): alice transfers bob to the park; pool-b answers 202,
        # ends the subscription with NOTIFY 100 and tells alice by MESSAGE; neither phone hangs up.
        closed_a=$(bcount alice CALL_CLOSED) closed_b=$(bcount bob CALL_CLOSED)
        # terminated NOTIFYs in alice's trace so far (the park at pool-a ended with one): wait for the next.
        ended() { sed 's/\x1b\[[0-9;]*m//g' "$OUT/alice/baresip.log" | grep -c '^Subscription-State: terminated'; }
        ended_before=$(ended)
        send alice transfer sip:park@callpark.lab >/dev/null 2>&1
        notified=0
        for ((i = 0; i < 50; i++)); do
            (($(ended) > ended_before)) && { notified=1; break; }
            sleep 0.2
        done
        accepted=$(sip_responses "$OUT/alice/baresip.log" "$b_sip" | awk -F'\t' '$2 ~ /REFER/ { print $1 " (" $4 ")"; exit }')
        kept=0
        ((notified)) && watch_up alice "$closed_a" 3 && watch_up bob "$closed_b" 0 && kept=1
        # The park's MESSAGE, as baresip prints it (its own text, not the Warning of the 202 in the trace).
        told=$(sed 's/\x1b\[[0-9;]*m//g' "$OUT/alice/baresip.log" | grep -m1 -o 'Call park is unavailable in resiliency mode: the call stays with you')
        if ((kept)) && [[ "$accepted" == "SIP/2.0 202"* && -n "$told" ]]; then
            record failover-refused-park-baresip pass "alice (resiliency) transferred bob to the park: REFER -> $accepted, NOTIFY terminated (100); no CALL_CLOSED on either phone 3 s later; alice told: '$told'"
        else
            record failover-refused-park-baresip fail "alice's park in resiliency mode: REFER answered '${accepted:-nothing}', NOTIFY seen $notified, calls kept $kept (alice CALL_CLOSED: $(events alice CALL_CLOSED | tail -1 | cut -c1-160)), MESSAGE '${told:-none}'; traces in $OUT"
        fi
        closed_a=$(bcount alice CALL_CLOSED) closed_b=$(bcount bob CALL_CLOSED)
        send alice hangup >/dev/null 2>&1
        if bwait alice CALL_CLOSED $((closed_a + 1)) 10 && bwait bob CALL_CLOSED $((closed_b + 1)) 10; then
            record failover-resiliency-hangup pass "alice hung up: CALL_CLOSED on both"
        else
            record failover-resiliency-hangup fail "the hang-up did not close both calls; traces in $OUT"
        fi
    else
        record failover-resiliency-call fail "alice's call to bob: not established or not through pool-b (alice: $(events alice CALL_CLOSED | tail -1 | cut -c1-160)); traces in $OUT"
    fi
    if ((lp_ok)); then
        before_a=$(events alice CALL_ESTABLISHED | wc -l)
        send alice dial sip:dave@callpark.lab >/dev/null 2>&1
        dave_ok=0
        bwait alice CALL_ESTABLISHED $((before_a + 1)) 15 && lp_wait LinphoneCallStreamsRunning 'sip:alice@' 50 && dave_ok=1
        if ((dave_ok)); then
            record failover-resiliency-call-linphone pass "alice called dave's linphone through pool-b: established (linphone StreamsRunning)"
            # dave (linphone, resiliency mode) parks alice: the same refusal must keep linphone's call too.
            call_id=$(tr -d '\r' <"$LP_DIR/out.log" | grep -c '^Event: LinphoneCallIncomingReceived')
            closed_a=$(bcount alice CALL_CLOSED)
            ends_before=$(tr -d '\r' <"$LP_DIR/out.log" | grep -c '^Event: LinphoneCallEnd')
            lp_cmd "call-transfer $call_id sip:park@callpark.lab"
            lp_notified=0
            for ((i = 0; i < 50; i++)); do
                grep -q 'Subscription-State: terminated' "$LP_DIR/daemon.log" && { lp_notified=1; break; }
                sleep 0.2
            done
            lp_kept=0
            ((lp_notified)) && watch_up alice "$closed_a" 3 &&
                (($(tr -d '\r' <"$LP_DIR/out.log" | grep -c '^Event: LinphoneCallEnd') == ends_before)) && lp_kept=1
            if ((lp_kept)); then
                record failover-refused-park-linphone pass "dave (linphone, resiliency) transferred alice to the park (call-transfer $call_id): NOTIFY terminated reached linphone; 3 s later no LinphoneCallEnd, no CALL_CLOSED on alice"
            else
                record failover-refused-park-linphone fail "dave's park in resiliency mode: NOTIFY seen $lp_notified, calls kept $lp_kept; logs in $LP_DIR and $OUT/alice"
            fi
        else
            record failover-resiliency-call-linphone fail "alice -> dave through pool-b: not established; logs in $LP_DIR"
        fi
        closed_a=$(bcount alice CALL_CLOSED)
        send alice hangup >/dev/null 2>&1
        dave_end=0
        bwait alice CALL_CLOSED $((closed_a + 1)) 10 && lp_wait LinphoneCallEnd 'sip:alice@' 50 && dave_end=1
        ((dave_end)) || record failover-resiliency-hangup-linphone fail "alice hung up on dave: dave's call did not end; logs in $LP_DIR"
    fi
fi
lp_stop

# ---------------------------------------------------------------- 6. the pools' SIP traces (--pcap) open in tshark

# pool-b is stopped first (SIGTERM: it writes what is queued); pool-a's trace ends where kill -9 cut it.
pool_stop pool-b-fo
if command -v tshark >/dev/null; then
    pcap_detail="" pcap_ok=1
    for f in pool-a:"$a_sip" pool-b:"$b_sip"; do
        name=${f%%:*} port=${f##*:}
        file="$OUT/$name.pcap"
        sip_count=$(timeout 60 tshark -r "$file" -d "udp.port==$port,sip" -Y sip -T fields -e frame.number 2>/dev/null | wc -l)
        malformed=$(timeout 60 tshark -r "$file" -d "udp.port==$port,sip" -Y _ws.malformed 2>/dev/null | wc -l)
        pcap_detail+=" $name: $sip_count SIP frames, $malformed malformed;"
        ((sip_count > 0 && malformed == 0)) || pcap_ok=0
    done
    if ((pcap_ok)); then
        record failover-pcap pass "tshark -Y sip decodes both pools' traces and -Y _ws.malformed prints nothing:$pcap_detail"
    else
        record failover-pcap fail "tshark on the pools' traces:$pcap_detail files in $OUT"
    fi
else
    log "tshark is not installed: the pools' traces are not checked (apt-get install tshark)"
fi
finish $((INTEROP_FAILURES == 0 ? 0 : 1))
