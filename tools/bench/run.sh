#!/usr/bin/env bash
# SipCallPark benchmarks, side by side with Kamailio 5.6, in one run on one machine (docs/design.md §10, issue 7).
# Installs what it needs (sip-tester, kamailio: apt-get when root and missing), builds Release, runs the parts and
# writes a markdown report with each figure's exact command, the machine (nproc, CPU model), date and git commit:
#
#   register  REGISTER throughput over UDP with sipp: SipCallPark and Kamailio (usrloc in memory), the same generated
#             users and passwords, digest on both and auth off on both; the highest rate sustained for the step's
#             length with zero failed calls and < 1 % retransmissions, and the ratio SipCallPark/Kamailio
#   calls     proxied calls/s (sipp UAC -> registrar/proxy -> sipp UAS registered as bob), both servers
#   park      park+retrieve cycles/s and parked calls' memory/CPU: tools/bench/park.sh (our own load generator)
#   failover  kill -9 of pool-a with 1,000 users registered and 100 calls parked: to pool-b's Outage, to the last
#             orphan BYE, to the first REGISTER of a pool-a user accepted at pool-b
#   parser    BenchmarkDotNet: INVITE / 200 / REGISTER parse and serialize, with allocations
#
#   tools/bench/run.sh                          everything (about 35 minutes), writes docs/benchmarks.md
#   tools/bench/run.sh --quick                  a few seconds per figure (about 3 minutes): checks every part runs and
#                                               yields numbers; writes artifacts/bench/benchmarks-quick.md
#   tools/bench/run.sh --only register,calls    some parts (register|tls|calls|park|failover|parser; repeatable)
#   tools/bench/run.sh --out FILE               write the report there instead
#   tools/bench/run.sh --no-build               use the Release build that is there
#   tools/bench/run.sh --keep                   keep the temporary directory (logs, sipp statistics) even when all ran
#
# Ports (127.0.0.1 only; override with the environment): BENCH_SIP_A=5160 BENCH_ADMIN_A=8160 (pool-a),
# BENCH_SIP_B=5162 BENCH_ADMIN_B=8162 (pool-b), BENCH_KAMAILIO=5170, BENCH_SIPP_BASE=5171 (sipp uses it and the
# next four). BENCH_STEP_SECONDS=N changes the length of a sipp step (20 s; 3 s with --quick). Every process it
# starts is stopped by its PID; every wait is bounded.
#
# A measurement, not a test: speed never fails it. Exit 0 when every part asked for ran and produced its numbers;
# 1 when a part could not run at all (missing tool, server that would not start, no numbers: see the report's
# "Parts" table and the kept temporary directory); 2 on a wrong command line.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
BENCH=tools/bench
POOL_DLL=src/SipCallPark/bin/Release/net10.0/SipCallPark.dll
LOAD_DLL=tools/SipCallPark.ParkLoad/bin/Release/net10.0/SipCallPark.ParkLoad.dll
BDN_DLL=tools/SipCallPark.Benchmarks/bin/Release/net10.0/SipCallPark.Benchmarks.dll
UAC_CALL=tools/interop/sipp/uac-call.xml
UAS_ANSWER=tools/interop/sipp/uas-answer.xml

SIP_A=${BENCH_SIP_A:-5160} ADMIN_A=${BENCH_ADMIN_A:-8160}
SIP_B=${BENCH_SIP_B:-5162} ADMIN_B=${BENCH_ADMIN_B:-8162}
KAM_PORT=${BENCH_KAMAILIO:-5170}
SIPP_BASE=${BENCH_SIPP_BASE:-5171}
SIPP_REG_PORT=$SIPP_BASE SIPP_UAS_PORT=$((SIPP_BASE + 1)) SIPP_UAC_PORT=$((SIPP_BASE + 2)) SIPP_FO_PORT=$((SIPP_BASE + 3))

ALL_PARTS=(register tls calls park failover parser)
quick=0 build=1 keep=0 out=""
parts=()
while (($#)); do
    case $1 in
        --quick) quick=1 ;;
        --no-build) build=0 ;;
        --keep) keep=1 ;;
        --out) out=${2:?--out needs a file}; shift ;;
        --out=*) out=${1#--out=} ;;
        --only) IFS=, read -ra more <<<"${2:?--only needs a part}"; parts+=("${more[@]}"); shift ;;
        --only=*) IFS=, read -ra more <<<"${1#--only=}"; parts+=("${more[@]}") ;;
        -h | --help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
((${#parts[@]})) || parts=("${ALL_PARTS[@]}")
for p in "${parts[@]}"; do
    [[ " ${ALL_PARTS[*]} " == *" $p "* ]] || { echo "run.sh: unknown part '$p' (register|tls|calls|park|failover|parser)" >&2; exit 2; }
done
[[ -n "$out" ]] || out=$( ((quick)) && echo artifacts/bench/benchmarks-quick.md || echo docs/benchmarks.md)
wants() { [[ " ${parts[*]} " == *" $1 "* ]]; }

if ((quick)); then
    STEP_SECONDS=3 USERS=100 FO_USERS=100 FO_PARKED=20
else
    STEP_SECONDS=20 USERS=1000 FO_USERS=1000 FO_PARKED=100
fi
STEP_SECONDS=${BENCH_STEP_SECONDS:-$STEP_SECONDS}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sipcallpark-bench.XXXXXX")
mkdir -p "$TMP/parts" "$TMP/sipp"
declare -A PIDS=()      # label -> PID of what we started and must stop
declare -A STATUS=()    # part -> "ok" | "failed: why"
NOTES=()
SUMMARY=()
RUN_START=$(date +%s)
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# stop LABEL: SIGTERM the process we started under LABEL, wait up to 10 s, then SIGKILL.
stop() {
    local label=$1 pid=${PIDS[$1]:-} i
    [[ -n "$pid" ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            log "$label ($pid) did not stop in 10 s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
    unset "PIDS[$label]"
}

cleanup() {
    local status=$? label
    trap - EXIT
    for label in "${!PIDS[@]}"; do stop "$label"; done
    if ((status == 0 && keep == 0)); then
        rm -rf "$TMP"
    else
        log "logs, sipp statistics and load output kept in $TMP"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

udp_in_use() { [[ -n $(ss -Hlun "sport = :$1" 2>/dev/null) ]]; }

# cpu_ticks PID: utime+stime of PID and its direct children (Kamailio's workers are processes), in clock ticks.
cpu_ticks() {
    local pid=$1 total=0 p fields
    for p in "$pid" $(ps -o pid= --ppid "$pid" 2>/dev/null); do
        fields=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
        read -ra f <<<"$fields"
        total=$((total + f[11] + f[12]))
    done
    echo "$total"
}
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# rss_mb PID: resident set of PID and its direct children, MB.
rss_mb() {
    local pid=$1 total=0 p kb
    for p in "$pid" $(ps -o pid= --ppid "$pid" 2>/dev/null); do
        kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || continue
        total=$((total + ${kb:-0}))
    done
    awk -v kb="$total" 'BEGIN { printf "%.0f", kb / 1024 }'
}

# ================================================================ tools and build

install_tools() {
    local missing=()
    command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)
    command -v kamailio >/dev/null 2>&1 || missing+=(kamailio)
    ((${#missing[@]})) || return 0
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >"$TMP/apt.log" 2>&1 || true
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$TMP/apt.log" 2>&1 || tail -5 "$TMP/apt.log" >&2
    else
        log "missing ${missing[*]} and not root: the parts that need them are skipped"
    fi
}

install_tools
if ((build)); then
    log "building Release (SipCallPark, ParkLoad, Benchmarks)"
    for project in src/SipCallPark/SipCallPark.csproj tools/SipCallPark.ParkLoad/SipCallPark.ParkLoad.csproj \
        tools/SipCallPark.Benchmarks/SipCallPark.Benchmarks.csproj; do
        if ! timeout 900 dotnet build "$project" -c Release -nologo -v quiet >>"$TMP/build.log" 2>&1; then
            tail -30 "$TMP/build.log" >&2
            echo "run.sh: the Release build of $project failed" >&2
            exit 1
        fi
    done
fi

USERS_DIR="$TMP/users"
mkdir -p "$USERS_DIR"
python3 "$BENCH/benchdata.py" users "$USERS" "$USERS_DIR" --sip-a "$SIP_A" --admin-a "$ADMIN_A" --sip-b "$SIP_B" --admin-b "$ADMIN_B" \
    || { echo "run.sh: could not generate the users" >&2; exit 1; }

# ================================================================ servers

# start_pool LABEL NAME(pool-a|pool-b) LEVEL [--Key=value ...]: a pool on the bench ports with the generated topology
# and users and a fresh data dir; PIDS[LABEL], POOL_CMD; waits (30 s) for /healthz. Returns 1 if it did not come up.
start_pool() {
    local label=$1 name=$2 level=$3 sip admin i
    shift 3
    if [[ $name == pool-a ]]; then sip=$SIP_A admin=$ADMIN_A; else sip=$SIP_B admin=$ADMIN_B; fi
    if udp_in_use "$sip"; then
        log "UDP 127.0.0.1:$sip is already in use; not starting $name"
        return 1
    fi
    local dir="$TMP/$label"
    mkdir -p "$dir/data" "$dir/logs"
    POOL_CMD=(dotnet "$POOL_DLL" --config "config/$name.json" --log-level "$level"
        "--Pool:Sip:Port=$sip" "--Pool:Admin:Url=http://127.0.0.1:$admin"
        "--Pool:DataDirectory=$dir/data" "--Pool:TopologyFile=$USERS_DIR/topology.json" "--Pool:UsersFile=$USERS_DIR/users.json"
        --Pool:RateLimit:Enabled=false
        "--Serilog:WriteTo:1:Args:path=$dir/logs/$name-.json" "$@")
    "${POOL_CMD[@]}" >"$dir/pool.log" 2>&1 </dev/null &
    PIDS[$label]=$!
    for ((i = 0; i < 60; i++)); do
        if ! kill -0 "${PIDS[$label]}" 2>/dev/null; then
            tail -20 "$dir/pool.log" >&2
            log "$name ($label) exited during start-up"
            unset "PIDS[$label]"
            return 1
        fi
        curl -fsS -m 1 "http://127.0.0.1:$admin/healthz" >/dev/null 2>&1 && break
        sleep 0.5
    done
    if ! curl -fsS -m 2 "http://127.0.0.1:$admin/healthz" >/dev/null 2>&1; then
        log "$name ($label): /healthz did not answer in 30 s"
        stop "$label"
        return 1
    fi
    log "$name ($label) up, PID ${PIDS[$label]}"
}

# start_kamailio LABEL AUTH(0|1): Kamailio in the foreground (-DD -E) from a copy of kamailio.cfg next to the generated
# users.cfg, its own pid file and working dir; PIDS[LABEL], KAM_CMD. Returns 1 if it is not listening within 10 s.
start_kamailio() {
    local label=$1 auth=$2 i
    local dir="$TMP/$label"
    if udp_in_use "$KAM_PORT"; then
        log "UDP 127.0.0.1:$KAM_PORT is already in use; not starting Kamailio"
        return 1
    fi
    mkdir -p "$dir"
    cp "$BENCH/kamailio/kamailio.cfg" "$dir/kamailio.cfg"
    cp "$USERS_DIR/users.cfg" "$dir/users.cfg"
    KAM_CMD=(kamailio -f "$dir/kamailio.cfg" -l "udp:127.0.0.1:$KAM_PORT" -DD -E -P "$dir/kamailio.pid" -w "$dir" -Y "$dir"
        -m 256 -M 16)
    ((auth)) && KAM_CMD+=(-A WITH_AUTH)
    "${KAM_CMD[@]}" >"$dir/kamailio.log" 2>&1 </dev/null &
    PIDS[$label]=$!
    for ((i = 0; i < 40; i++)); do
        kill -0 "${PIDS[$label]}" 2>/dev/null || break
        udp_in_use "$KAM_PORT" && { sleep 0.5; log "Kamailio ($label) up, PID ${PIDS[$label]}"; return 0; }
        sleep 0.25
    done
    tail -20 "$dir/kamailio.log" >&2
    log "Kamailio ($label) did not start"
    stop "$label"
    return 1
}

# ================================================================ sipp steps and the rate ladder

# sipp_step TAG PID PORT RATE MSGS_PER_CALL SIPP_ARGS...: one sipp run of STEP_SECONDS at RATE calls/s against
# 127.0.0.1:PORT, the server being PID (for its CPU). Sets S_OK S_FAILED S_RETRANS S_RETRANS_PCT S_SECONDS S_ACHIEVED
# S_CPU S_RC S_CMD and S_PASS (1 = zero failed, every call done, < 1 % retransmissions, on time).
sipp_step() {
    local tag=$1 pid=$2 port=$3 rate=$4 per_call=$5
    shift 5
    local calls=$((rate * STEP_SECONDS)) stat="$TMP/sipp/$tag-$rate.csv" limit start_ns took_ms cpu0 cpu1
    limit=$((rate * 2 > 50 ? rate * 2 : 50))
    S_CMD=(sipp "$@" -i 127.0.0.1 -r "$rate" -rp 1000 -m "$calls" -l "$limit" -recv_timeout 5000
        -timeout $((STEP_SECONDS * 3 + 30)) -nostdin -trace_stat -stf "$stat" -fd 1
        -trace_err -error_file "$TMP/sipp/$tag-$rate.errors.log" "127.0.0.1:$port")
    S_LOAD=$(cut -d' ' -f1 /proc/loadavg)
    cpu0=$(cpu_ticks "$pid")
    start_ns=$(date +%s%N)
    S_RC=0
    /usr/bin/time -f '%U %S' -o "$TMP/sipp/$tag-$rate.time" timeout -k 5 $((STEP_SECONDS * 3 + 40)) "${S_CMD[@]}" \
        >"$TMP/sipp/$tag-$rate.screen.log" 2>&1 </dev/null || S_RC=$?
    took_ms=$((($(date +%s%N) - start_ns) / 1000000))
    cpu1=$(cpu_ticks "$pid")
    # sipp's own CPU (user + system seconds, from time(1)) over the step.
    S_SIPP_CPU=$(awk -v ms="$took_ms" 'NF == 2 && $1 ~ /^[0-9.]+$/ { printf "%.0f", 100 * ($1 + $2) / (ms / 1000); found = 1 } END { if (!found) print "?" }' \
        "$TMP/sipp/$tag-$rate.time" 2>/dev/null)
    { read -r S_OK; read -r S_FAILED; read -r S_RETRANS; } < <(python3 "$BENCH/benchdata.py" stat "$stat" \
        'SuccessfulCall(C)' 'FailedCall(C)' 'Retransmissions(C)' 2>/dev/null || printf '?\n?\n?\n')
    S_SECONDS=$(awk -v ms="$took_ms" 'BEGIN { printf "%.1f", ms / 1000 }')
    S_ACHIEVED="?" S_RETRANS_PCT="?"
    if [[ "$S_OK" =~ ^[0-9]+$ ]]; then
        S_ACHIEVED=$(awk -v n="$S_OK" -v ms="$took_ms" 'BEGIN { printf "%.0f", n * 1000 / ms }')
        [[ "$S_RETRANS" =~ ^[0-9]+$ ]] && S_RETRANS_PCT=$(awk -v r="$S_RETRANS" -v n="$calls" -v m="$per_call" 'BEGIN { printf "%.2f", 100 * r / (n * m) }')
    fi
    S_CPU=$(awk -v t=$((cpu1 - cpu0)) -v hz="$CLK_TCK" -v ms="$took_ms" 'BEGIN { printf "%.0f", 100 * t / hz / (ms / 1000) }')
    S_PASS=0
    if ((S_RC == 0)) && [[ "$S_FAILED" == 0 && "$S_OK" == "$calls" ]] \
        && awk -v p="$S_RETRANS_PCT" 'BEGIN { exit !(p + 0 < 1) }' \
        && ((took_ms <= STEP_SECONDS * 1100 + 3000)); then
        S_PASS=1
    fi
    log "  $tag $rate/s: ok $S_OK failed $S_FAILED retrans $S_RETRANS ($S_RETRANS_PCT %) in $S_SECONDS s, server CPU $S_CPU %, sipp CPU $S_SIPP_CPU %, load $S_LOAD $( ((S_PASS)) && echo pass || echo "FAIL (sipp exit $S_RC)")"
}

# ladder TAG PID PORT START MAX GRAIN MSGS_PER_CALL SIPP_ARGS...: the highest rate that passes a step. Doubles from
# START until a step fails (or MAX), then halves the gap to the failing rate twice (to GRAIN). Quick mode: one step at
# START. Sets L_BEST (0 = none passed), L_ROWS (one markdown row per step), L_CMD (the best step's command), L_STEPS.
ladder() {
    local tag=$1 pid=$2 port=$3 start=$4 max=$5 grain=$6 per_call=$7
    shift 7
    local rate=$start good=0 bad=0 i
    L_BEST=0 L_ROWS=() L_CMD="" L_STEPS=0
    step_at() {
        local at=$1
        shift
        sipp_step "$tag" "$pid" "$port" "$at" "$per_call" "$@"
        L_STEPS=$((L_STEPS + 1))
        L_ROWS+=("| $at | $S_OK | $S_FAILED | $S_RETRANS ($S_RETRANS_PCT %) | $S_SECONDS | $S_ACHIEVED | $S_CPU | $S_SIPP_CPU | $S_LOAD | $( ((S_PASS)) && echo yes || echo "**no**") |")
        if ((S_PASS)); then L_BEST=$at L_CMD="${S_CMD[*]}"; fi
        kill -0 "$pid" 2>/dev/null || { log "  the server ($pid) is gone"; return 1; }
        ((quick)) || sleep 2 # let the last transactions end before the next step
    }
    if ((quick)); then
        step_at "$start" "$@"
        return 0
    fi
    # Warm-up, not counted: 5 s at START (the pool's JIT compiles its hot paths; the same for both servers).
    local measured=$STEP_SECONDS
    STEP_SECONDS=5
    sipp_step "$tag-warmup" "$pid" "$port" "$start" "$per_call" "$@"
    STEP_SECONDS=$measured
    sleep 2
    while ((rate <= max)); do
        step_at "$rate" "$@" || return 0
        if ((S_PASS)); then good=$rate; rate=$((rate * 2)); else bad=$rate; break; fi
    done
    if ((good == 0)); then
        # Even START failed: go down instead, to START/8 at most.
        for ((rate = start / 2; rate >= start / 8 && rate >= 1; rate /= 2)); do
            step_at "$rate" "$@" || return 0
            ((S_PASS)) && { good=$rate; break; }
            bad=$rate
        done
    fi
    for ((i = 0; i < 2 && good > 0 && bad > good; i++)); do
        rate=$(((good + bad) / 2 / grain * grain))
        ((rate > good && rate < bad)) || break
        step_at "$rate" "$@" || return 0
        if ((S_PASS)); then good=$rate; else bad=$rate; fi
    done
    return 0
}

LADDER_HEAD="| rate/s | successful | failed | retransmissions | seconds | achieved/s | server CPU % | sipp CPU % | load avg | passes |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a > 0) printf "%.2f", a / b; else print "n/a" }'; }

# ================================================================ part: register

part_register() {
    local md="$TMP/parts/register.md" ok=0 auth server label best scen per_call
    declare -A BEST=() CMD=() SERVER_CMD=()
    {
        echo "## REGISTER throughput (UDP, sipp)"
        echo
        echo "The same $USERS generated users with random 16-character passwords (\`$BENCH/benchdata.py\`) go into the pool's"
        echo "\`users.json\` + topology and into Kamailio's in-memory htable (\`users.cfg\`, included by \`$BENCH/kamailio/kamailio.cfg\`)."
        echo "sipp takes them in turn from an injection file (\`-inf users.csv\`, \`[authentication username=… password=…]\`)."
        echo "A step passes with zero failed calls, every call done, retransmissions < 1 % of the requests, and finished within"
        echo "10 % (+3 s) of its $STEP_SECONDS s. Rates double until a step fails, then the gap is halved twice."
        echo "Server CPU % is the server's process tree over the step, sipp CPU % the load generator's (100 % = one core;"
        echo "sipp is single-threaded, so near 100 % it is sipp that limits); load avg is the machine's 1-minute load at the"
        echo "step's start ($(nproc) cores: above $(nproc), processes were waiting for a core)."
        echo
    } >"$md"
    for auth in 1 0; do
        for server in pool kamailio; do
            label="register-$server-$( ((auth)) && echo auth || echo noauth)"
            if [[ $server == pool ]]; then
                start_pool "$label" pool-a Warning --Pool:Replication:Enabled=false --Pool:Park:EnableMusicOnHold=false \
                    "--Pool:Auth:RequireRegisterAuthentication=$( ((auth)) && echo true || echo false)" || continue
                SERVER_CMD[$label]="${POOL_CMD[*]}"
                port=$SIP_A
            else
                command -v kamailio >/dev/null 2>&1 || { NOTES+=("register: Kamailio is not installed; no reference figures"); continue; }
                start_kamailio "$label" "$auth" || continue
                SERVER_CMD[$label]="${KAM_CMD[*]}"
                port=$KAM_PORT
            fi
            if ((auth)); then scen=$BENCH/sipp/register-auth.xml per_call=2; else scen=$BENCH/sipp/register-noauth.xml per_call=1; fi
            log "$label: ladder"
            ladder "$label" "${PIDS[$label]}" "$port" $( ((quick)) && echo 50 || echo 500) 32000 50 "$per_call" \
                -sf "$scen" -inf "$USERS_DIR/users.csv" -p "$SIPP_REG_PORT"
            local rss
            rss=$(rss_mb "${PIDS[$label]}")
            stop "$label"
            BEST[$label]=$L_BEST CMD[$label]=$L_CMD
            ((L_STEPS > 0)) && ok=1
            {
                echo "### $label"
                echo
                echo "Server: \`${SERVER_CMD[$label]}\` (RSS after the ladder: $rss MB)"
                echo
                echo "$LADDER_HEAD"
                printf '%s\n' "${L_ROWS[@]}"
                echo
                if ((L_BEST > 0)); then echo "Highest passing rate: **$L_BEST/s**, by \`$L_CMD\`"; else echo "No step passed."; fi
                echo
            } >>"$md"
        done
    done
    {
        echo "### REGISTER summary"
        echo
        echo "| auth | SipCallPark /s | Kamailio 5.6 /s | ratio SipCallPark/Kamailio |"
        echo "|---|---:|---:|---:|"
        for auth in auth noauth; do
            echo "| $([[ $auth == auth ]] && echo "digest (MD5, qop=auth)" || echo "off") | ${BEST[register-pool-$auth]:-n/a} | ${BEST[register-kamailio-$auth]:-n/a} | $(ratio "${BEST[register-pool-$auth]:-0}" "${BEST[register-kamailio-$auth]:-0}") |"
        done
        echo
    } >>"$md"
    SUMMARY+=("| REGISTER/s, digest auth (sipp, UDP) | ${BEST[register-pool-auth]:-n/a} | ${BEST[register-kamailio-auth]:-n/a} | $(ratio "${BEST[register-pool-auth]:-0}" "${BEST[register-kamailio-auth]:-0}") | ≥ Kamailio |")
    SUMMARY+=("| REGISTER/s, auth off (sipp, UDP) | ${BEST[register-pool-noauth]:-n/a} | ${BEST[register-kamailio-noauth]:-n/a} | $(ratio "${BEST[register-pool-noauth]:-0}" "${BEST[register-kamailio-noauth]:-0}") | ≥ Kamailio |")
    ((ok)) && STATUS[register]=ok || STATUS[register]="failed: no server could be measured"
}

# ================================================================ part: tls

# REGISTER/s over TLS beside UDP. Debian's sipp has no TLS ("To use a TLS transport you must compile SIPp with OpenSSL"),
# so one generator, register-tls.py, measures both: 8 workers, one REGISTER (401, digest, 200) in flight each, its own
# TLS connection or UDP socket; UDP and TLS alternate for 3 rounds (1 in --quick) and the median round is reported.
part_tls() {
    local md="$TMP/parts/tls.md" label=register-tls tls_port=$((SIP_A + 1)) rounds seconds round transport line
    local -a rows=() udp=() tls=()
    if ((quick)); then rounds=1 seconds=2; else rounds=3 seconds=10; fi
    start_pool "$label" pool-a Warning --Pool:Replication:Enabled=false --Pool:Park:EnableMusicOnHold=false \
        --Pool:Sip:Transports:2=tls "--Pool:Sip:TlsPort=$tls_port" || { STATUS[tls]="failed: the pool did not start"; return; }
    local server_cmd="${POOL_CMD[*]}" cert="$TMP/$label/data/pool-a-tls.crt" pid=${PIDS[$label]}
    for ((round = 1; round <= rounds; round++)); do
        for transport in udp tls; do
            local port=$SIP_A extra=() load before after start_ns end_ns
            [[ $transport == tls ]] && port=$tls_port extra=(--cafile "$cert")
            load=$(cut -d' ' -f1 /proc/loadavg)
            before=$(cpu_ticks "$pid")
            start_ns=$(date +%s%N)
            line=$(timeout -k 5 $((seconds + 30)) python3 "$BENCH/register-tls.py" --transport "$transport" --port "$port" \
                "${extra[@]}" --users "$USERS_DIR/users.csv" --seconds "$seconds" --workers 8 2>&1 | tail -1)
            after=$(cpu_ticks "$pid")
            end_ns=$(date +%s%N)
            local rate ok failed cpu
            rate=$(sed -n 's/.* rate=\([0-9]*\).*/\1/p' <<<"$line")
            ok=$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$line")
            failed=$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$line")
            cpu=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v ns=$((end_ns - start_ns)) 'BEGIN { printf "%.0f", t / hz * 100 / (ns / 1e9) }')
            rows+=("| $round | $transport | ${ok:-?} | ${failed:-?} | ${rate:-n/a} | $cpu | $load |")
            if [[ -n "$rate" && "${failed:-1}" == 0 ]]; then
                if [[ $transport == udp ]]; then udp+=("$rate"); else tls+=("$rate"); fi
            fi
        done
    done
    stop "$label"
    local median_udp median_tls
    median_udp=$(printf '%s\n' "${udp[@]}" | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
    median_tls=$(printf '%s\n' "${tls[@]}" | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
    {
        echo "## REGISTER over TLS beside UDP (register-tls.py)"
        echo
        echo "sipp cannot measure TLS here: Debian's sip-tester is built without OpenSSL, and \`sipp -t l1\` stops with"
        echo "\"To use a TLS transport you must compile SIPp with OpenSSL\". \`$BENCH/register-tls.py\` measures both transports"
        echo "the same way instead: 8 workers, each one of the generated users with one REGISTER in flight (REGISTER, 401, REGISTER"
        echo "with the MD5 digest, 200: the sipp scenario's two round trips), over its own TLS connection (the lab certificate"
        echo "verified) or its own UDP socket, for $seconds s; UDP and TLS alternate, $rounds round(s). It is a closed loop, not a"
        echo "ladder: the figure is what 8 phones registering back to back get, and the generator (Python, one core) is"
        echo "part of it. A round counts only with zero failures; the median counted round is reported."
        echo
        echo "Server: \`$server_cmd\`"
        echo
        echo "Command: \`python3 $BENCH/register-tls.py --transport tls --port $tls_port --cafile $cert --users $USERS_DIR/users.csv --seconds $seconds --workers 8\` (and \`--transport udp --port $SIP_A\`)"
        echo
        echo "| round | transport | 200 OK | failed | REGISTER/s | server CPU % | load avg |"
        echo "|---:|---|---:|---:|---:|---:|---:|"
        printf '%s\n' "${rows[@]}"
        echo
        echo "Median: UDP **${median_udp:-n/a}/s**, TLS **${median_tls:-n/a}/s**."
        echo
    } >"$md"
    SUMMARY+=("| REGISTER/s, digest auth, 8 phones back to back (register-tls.py): UDP / TLS | ${median_udp:-n/a} / ${median_tls:-n/a} | — | — | — |")
    if [[ -n "$median_udp" && -n "$median_tls" ]]; then STATUS[tls]=ok; else STATUS[tls]="failed: no round without failures (see $md)"; fi
}

# ================================================================ part: calls

part_calls() {
    local md="$TMP/parts/calls.md" ok=0 server label port rc
    declare -A BEST=()
    {
        echo "## Proxied calls/s (UDP, sipp)"
        echo
        echo "sipp UAC (alice, digest on the INVITE: 407 then retry) → server → sipp UAS registered as bob (\`$BENCH/sipp/register-one.xml\`"
        echo "from the UAS's port), INVITE/100/180/200/ACK, 500 ms of call, BYE/200 (\`$UAC_CALL\`, \`$UAS_ANSWER\`). Both servers"
        echo "Record-Route, look bob up in their location store and relay statefully. Same pass rule as REGISTER."
        echo
    } >"$md"
    for server in pool kamailio; do
        label="calls-$server"
        if [[ $server == pool ]]; then
            start_pool "$label" pool-a Warning --Pool:Replication:Enabled=false --Pool:Park:EnableMusicOnHold=false || continue
            server_cmd="${POOL_CMD[*]}"
            port=$SIP_A
        else
            command -v kamailio >/dev/null 2>&1 || { NOTES+=("calls: Kamailio is not installed; no reference figure"); continue; }
            start_kamailio "$label" 1 || continue
            server_cmd="${KAM_CMD[*]}"
            port=$KAM_PORT
        fi
        rc=0
        timeout 20 sipp -sf "$BENCH/sipp/register-one.xml" -s bob -au bob -ap bob-lab-pw -i 127.0.0.1 -p "$SIPP_UAS_PORT" -m 1 \
            -recv_timeout 5000 -nostdin "127.0.0.1:$port" >"$TMP/sipp/$label-register-bob.log" 2>&1 </dev/null || rc=$?
        if ((rc != 0)); then
            log "$label: bob's sipp UAS could not register (sipp exit $rc)"
            NOTES+=("calls on $server: bob could not register (sipp exit $rc)")
            stop "$label"
            continue
        fi
        sipp -sf "$UAS_ANSWER" -i 127.0.0.1 -p "$SIPP_UAS_PORT" -nostdin -trace_err -error_file "$TMP/sipp/$label-uas.errors.log" \
            "127.0.0.1:$port" >"$TMP/sipp/$label-uas.screen.log" 2>&1 </dev/null &
        PIDS[$label-uas]=$!
        sleep 0.5
        log "$label: ladder"
        ladder "$label" "${PIDS[$label]}" "$port" $( ((quick)) && echo 10 || echo 50) 8000 10 3 \
            -sf "$UAC_CALL" -s bob -au alice -ap alice-lab-pw -p "$SIPP_UAC_PORT"
        stop "$label-uas"
        stop "$label"
        BEST[$server]=$L_BEST
        ((L_STEPS > 0)) && ok=1
        {
            echo "### $label"
            echo
            echo "Server: \`$server_cmd\`; UAS: \`sipp -sf $UAS_ANSWER -i 127.0.0.1 -p $SIPP_UAS_PORT -nostdin 127.0.0.1:$port\` after"
            echo "\`sipp -sf $BENCH/sipp/register-one.xml -s bob -au bob -ap bob-lab-pw -i 127.0.0.1 -p $SIPP_UAS_PORT -m 1 127.0.0.1:$port\`"
            echo
            echo "$LADDER_HEAD"
            printf '%s\n' "${L_ROWS[@]}"
            echo
            if ((L_BEST > 0)); then echo "Highest passing rate: **$L_BEST calls/s**, by \`$L_CMD\`"; else echo "No step passed."; fi
            echo
        } >>"$md"
    done
    SUMMARY+=("| proxied calls/s (INVITE…BYE, digest) | ${BEST[pool]:-n/a} | ${BEST[kamailio]:-n/a} | $(ratio "${BEST[pool]:-0}" "${BEST[kamailio]:-0}") | — |")
    ((ok)) && STATUS[calls]=ok || STATUS[calls]="failed: no server could be measured"
}

# ================================================================ part: park

part_park() {
    local md="$TMP/parts/park.md" rc=0 args=(--no-build)
    ((quick)) && args+=(--quick)
    local cmd="PARK_BENCH_SIP_PORT=$SIP_A PARK_BENCH_ADMIN_PORT=$ADMIN_A PARK_BENCH_PARTNER_SIP_PORT=$SIP_B PARK_BENCH_PARTNER_ADMIN_PORT=$ADMIN_B $BENCH/park.sh ${args[*]}"
    log "park: $cmd"
    PARK_BENCH_SIP_PORT=$SIP_A PARK_BENCH_ADMIN_PORT=$ADMIN_A PARK_BENCH_PARTNER_SIP_PORT=$SIP_B PARK_BENCH_PARTNER_ADMIN_PORT=$ADMIN_B \
        timeout -k 10 1800 bash "$BENCH/park.sh" "${args[@]}" >"$TMP/park.out" 2>"$TMP/park.log" </dev/null || rc=$?
    {
        echo "## Park+retrieve cycles and parked calls (SipCallPark only)"
        echo
        echo "Measured with our own load generator, \`tools/SipCallPark.ParkLoad\` (SIP stacks of the project's own SIP library"
        echo "acting as phones: way-2 park, retrieval by bridge, hang-up; see \`$BENCH/README.md\`), driven by \`$cmd\`."
        echo "Kamailio has no call park, so there is no reference figure."
        echo
        echo "\`\$PARK_TMP\` is park.sh's own temporary directory."
        # park.sh's table without its own title line.
        grep -v '^## Park benchmark' "$TMP/park.out" | grep -v '^Load output and pool logs:' \
            | sed -E 's#/[^ `]*/sipcallpark-parkbench\.[A-Za-z0-9]+#$PARK_TMP#g'
        echo
    } >"$md"
    local best rss1k rss10k cpu1k
    best=$(sed -n 's/.*highest open-loop rate with zero failures\*\* | \*\*\([0-9]*\)\/s.*/\1/p' "$TMP/park.out" | head -1)
    rss1k=$(grep -E '^\| hold [0-9]+, music off' "$TMP/park.out" | grep -v 'hold 10000' | sed -n 's/.*RSS \*\*\([0-9.]*\) MB.*/\1/p' | head -1)
    rss10k=$(grep -E '^\| hold 10000, music off' "$TMP/park.out" | sed -n 's/.*RSS \*\*\([0-9.]*\) MB.*/\1/p' | head -1)
    cpu1k=$(grep -E '^\| hold [0-9]+, music on' "$TMP/park.out" | sed -n 's/.*CPU \*\*\([0-9.]*\)%.*/\1/p' | head -1)
    local held
    held=$(grep -oE '^\| hold [0-9]+, music off' "$TMP/park.out" | head -1 | grep -oE '[0-9]+')
    # The best closed-loop run without a failure: cycles/s achieved with N at a time.
    local closed
    closed=$(grep -E '^\| cycles, closed loop' "$TMP/park.out" | grep -F '**0 failed**' \
        | sed -n 's/^| cycles, closed loop \([0-9]*\) at a time.*; \([0-9.]*\) cycles\/s;.*/\2 \1/p' | sort -rn | head -1)
    SUMMARY+=("| park+retrieve cycles/s, open loop, zero failures (ParkLoad) | $([[ "${best:-0}" == 0 ]] && echo "none of the rates tried" || echo "$best") | — | — | ≥ 500 |")
    [[ -n "$closed" ]] && SUMMARY+=("| park+retrieve cycles/s, closed loop, zero failures (ParkLoad) | ${closed%% *} (${closed##* } at a time) | — | — | — |")
    SUMMARY+=("| RSS with ${held:-?} parked, music off | ${rss1k:-n/a} MB | — | — | — |")
    ((quick)) || SUMMARY+=("| RSS with 10,000 parked, music off | ${rss10k:-n/a} MB | — | — | < 200 MB |")
    SUMMARY+=("| CPU with ${held:-?} parked, music on | ${cpu1k:-n/a} % of a core | — | — | — |")
    if [[ -n "$best$rss1k" ]] && grep -q '^| ' "$TMP/park.out"; then
        STATUS[park]=ok
        ((rc == 0)) || NOTES+=("park.sh exited with $rc although it printed its table; its log: kept temp dir, park.log")
    else
        STATUS[park]="failed: park.sh exited with $rc and printed no figures (see park.log in the kept temp dir)"
        tail -20 "$TMP/park.log" >&2
    fi
}

# ================================================================ part: failover

# status_json ADMIN_PORT: pool's /status (empty on error)
status_json() { curl -fsS -m 2 "http://127.0.0.1:$1/status" 2>/dev/null; }

# dr_of ADMIN_PORT POOL: "phase healthy" as that pool's /status shows POOL
dr_of() {
    status_json "$1" | python3 -c '
import json, sys
try:
    for e in json.load(sys.stdin)["dr"]:
        if e["pool"] == sys.argv[1]:
            print(e["phase"], e.get("healthy"))
except Exception:
    pass' "$2"
}

part_failover() {
    local md="$TMP/parts/failover.md" i rc
    # The shipped health defaults (Pool:Health:*), so the figure is what a newcomer gets; only the DR phases are short.
    local dr=(--Pool:Dr:FailoverDuration=00:00:02 --Pool:Dr:FailbackDuration=00:00:02)
    STATUS[failover]="failed: not run"
    start_pool failover-b pool-b Information "${dr[@]}" --Pool:Park:MediaPorts=45000-45999 || { STATUS[failover]="failed: pool-b did not start"; return; }
    local b_cmd="${POOL_CMD[*]}"
    start_pool failover-a pool-a Information "${dr[@]}" --Pool:Park:MediaPorts=44000-44999 || { STATUS[failover]="failed: pool-a did not start"; stop failover-b; return; }
    local a_cmd="${POOL_CMD[*]}"
    for ((i = 0; i < 100; i++)); do
        [[ "$(dr_of "$ADMIN_B" pool-a)" == "Normal True" && "$(dr_of "$ADMIN_A" pool-b)" == "Normal True" ]] && break
        sleep 0.2
    done
    log "failover: pool-b sees pool-a as '$(dr_of "$ADMIN_B" pool-a)', pool-a sees pool-b as '$(dr_of "$ADMIN_A" pool-b)'"

    # The registered users: every generated one, once, at pool-a.
    local reg_cmd=(sipp -sf "$BENCH/sipp/register-auth.xml" -inf "$USERS_DIR/users.csv" -i 127.0.0.1 -p "$SIPP_FO_PORT"
        -r 500 -rp 1000 -m "$FO_USERS" -l 500 -recv_timeout 5000 -nostdin -trace_stat -stf "$TMP/sipp/failover-register.csv" -fd 1
        "127.0.0.1:$SIP_A")
    rc=0
    timeout -k 5 120 "${reg_cmd[@]}" >"$TMP/sipp/failover-register.screen.log" 2>&1 </dev/null || rc=$?
    local reg_ok reg_failed
    { read -r reg_ok; read -r reg_failed; } < <(python3 "$BENCH/benchdata.py" stat "$TMP/sipp/failover-register.csv" 'SuccessfulCall(C)' 'FailedCall(C)' 2>/dev/null || printf '?\n?\n')
    log "failover: $reg_ok users registered at pool-a ($reg_failed failed, sipp exit $rc)"

    # The parked calls, held by ParkLoad, which then times the failover on its own clock.
    local kill_file="$TMP/failover-killed" load_out="$TMP/failover-load.out"
    local load_cmd=(dotnet "$LOAD_DLL" --mode failover --pool "127.0.0.1:$SIP_A" --admin "http://127.0.0.1:$ADMIN_A"
        --backup "127.0.0.1:$SIP_B" --backup-admin "http://127.0.0.1:$ADMIN_B" --calls "$FO_PARKED" --concurrency 20
        --seconds 20 --kill-file "$kill_file")
    timeout -k 5 300 "${load_cmd[@]}" >"$load_out" 2>&1 </dev/null &
    PIDS[failover-load]=$!
    for ((i = 0; i < 1200; i++)); do
        grep -q '^READY' "$load_out" 2>/dev/null && break
        kill -0 "${PIDS[failover-load]}" 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -q '^READY' "$load_out"; then
        cat "$load_out" >&2
        STATUS[failover]="failed: ParkLoad did not park its calls (output in the kept temp dir)"
        stop failover-load; stop failover-a; stop failover-b
        return
    fi
    local a_regs
    a_regs=$(status_json "$ADMIN_A" | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["registrations"])' 2>/dev/null || echo "?")
    log "failover: $(grep '^parked' "$load_out"); pool-a counts $a_regs registrations; kill -9 pool-a (${PIDS[failover-a]})"
    local killed_ms
    killed_ms=$(date +%s%3N)
    kill -KILL "${PIDS[failover-a]}"
    printf '%s\n' "$killed_ms" >"$kill_file.tmp" && mv "$kill_file.tmp" "$kill_file"
    wait "${PIDS[failover-a]}" 2>/dev/null
    unset "PIDS[failover-a]"
    rc=0
    wait "${PIDS[failover-load]}" || rc=$?
    unset "PIDS[failover-load]"
    local result outage_line
    result=$(grep '^RESULT ' "$load_out" | tail -1)
    # pool-b also logs an Outage while pool-a starts (pool-b came up first): the last one is the kill's.
    outage_line=$(grep -E -- '-> Outage' "$TMP/failover-b/pool.log" | tail -1 || true)
    stop failover-b
    f() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $result"; }
    {
        echo "## Failover (pool-a killed with SIGKILL, pool-b takes over)"
        echo
        echo "Both pools on 127.0.0.1 with the generated topology and the shipped health defaults (a probe every 200 ms, each"
        echo "retransmitted by its transaction; the partner down after 1.4 s without an answer), $FO_USERS generated users registered at pool-a with sipp, $FO_PARKED calls parked at pool-a by ParkLoad, which"
        echo "waits until pool-a's replication to pool-b has gone quiet, then the script notes the time (Unix ms) and sends"
        echo "\`kill -9\` to pool-a. ParkLoad, on the same clock, polls pool-b's \`/status\` every 10 ms for pool-a's phase, stamps"
        echo "each parked party's BYE from pool-b, and REGISTERs dave (a pool-a user) at pool-b every 20 ms until a 200."
        echo
        echo "| from the kill to | ms |"
        echo "|---|---:|"
        echo "| pool-b's /status shows pool-a in \`Outage\` | **$(f outage_ms)** |"
        echo "| the first orphan BYE at a parked party | $(f first_bye_ms) |"
        echo "| the last orphan BYE ($(f byes) of $(f parked) parked parties got one) | **$(f last_bye_ms)** |"
        echo "| the first 200 to a REGISTER of a pool-a user at pool-b ($(f register_attempts) attempts) | **$(f register_ms)** |"
        echo
        echo "- registered at pool-a before the kill: $reg_ok ($reg_failed failed) by \`${reg_cmd[*]}\`; pool-a's /status counted $a_regs registrations just before the kill"
        echo "- pool-a: \`$a_cmd\`"
        echo "- pool-b: \`$b_cmd\`"
        echo "- load: \`${load_cmd[*]}\` (exit $rc)"
        echo "- kill: \`date +%s%3N; kill -KILL \$POOL_A_PID\`"
        [[ -n "$outage_line" ]] && echo "- pool-b's log: \`$(sed 's/`//g' <<<"$outage_line" | cut -c1-200)\`"
        echo
        echo "ParkLoad's output:"
        echo
        echo '```'
        grep -v '^RESULT' "$load_out" | head -30
        echo '```'
        echo
    } >"$md"
    SUMMARY+=("| failover: kill -9 → backup's Outage | $(f outage_ms) ms | — | — | detection + teardown ≤ 2 s |")
    SUMMARY+=("| failover: kill -9 → last orphan BYE ($(f byes)/$(f parked)) | $(f last_bye_ms) ms | — | — | ≤ 2 s |")
    SUMMARY+=("| failover: kill -9 → first REGISTER of a pool-a user accepted at pool-b | $(f register_ms) ms | — | — | — |")
    if [[ "$(f outage_ms)" =~ ^[0-9]+$ ]]; then
        STATUS[failover]=ok
        ((rc == 0)) || NOTES+=("failover: ParkLoad exited $rc (not every figure was seen: see its output in the failover section)")
    else
        STATUS[failover]="failed: no outage time (ParkLoad exit $rc)"
    fi
}

# ================================================================ part: parser

part_parser() {
    local md="$TMP/parts/parser.md" rc=0 args report
    if ((quick)); then args=(--quick --filter '*' --exporters github --artifacts "$TMP/bdn")
    else args=(--inprocess --filter '*' --exporters github --artifacts "$TMP/bdn"); fi
    log "parser: dotnet $BDN_DLL ${args[*]}"
    timeout -k 10 1800 dotnet "$BDN_DLL" "${args[@]}" >"$TMP/bdn.log" 2>&1 </dev/null || rc=$?
    report=$(ls "$TMP"/bdn/results/*ParserBenchmarks-report-github.md 2>/dev/null | head -1)
    {
        echo "## SIP parser and serializer (BenchmarkDotNet)"
        echo
        echo "\`tools/SipCallPark.Benchmarks\` (\`ParserBenchmarks\`): a softphone's INVITE with SDP, the park's 200 OK with SDP and"
        echo "a REGISTER with credentials, parsed in place from a byte buffer and written to a reused buffer. Command:"
        echo "\`dotnet $BDN_DLL ${args[*]/#$TMP/\$TMP}\` (in-process toolchain$( ((quick)) && echo ", 3 warm-up and 3 measured iterations of 100 ms: indicative only" || echo ", BenchmarkDotNet's default warm-up and iteration counts"))."
        echo
        if [[ -n "$report" ]]; then cat "$report"; else echo "BenchmarkDotNet produced no report (exit $rc)."; fi
        echo
    } >"$md"
    local mean=""
    [[ -n "$report" ]] && mean=$(awk -F'|' '$2 ~ /ParseAndSerializeInvite / { gsub(/^ +| +$/, "", $3); print $3; exit }' "$report")
    if [[ -n "$mean" && "$mean" != NA ]]; then
        SUMMARY+=("| INVITE parse + serialize (mean) | ${mean:-n/a} | — | — | < 2 µs |")
        STATUS[parser]=ok
    else
        tail -20 "$TMP/bdn.log" >&2
        STATUS[parser]="failed: BenchmarkDotNet (exit $rc) reported no time for ParseAndSerializeInvite (see bdn.log in the kept temp dir)"
    fi
}

# ================================================================ run and report

for p in "${ALL_PARTS[@]}"; do
    wants "$p" || continue
    log "== $p"
    started=$(date +%s)
    "part_$p"
    log "== $p: ${STATUS[$p]:-failed: no status} ($(($(date +%s) - started)) s)"
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
cpu_model=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
load_now=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$(dirname "$out")"
{
    echo "# SipCallPark benchmarks$( ((quick)) && echo " (quick run: small rates, a few seconds per figure; not for comparison)")"
    echo
    echo "Written by \`tools/bench/run.sh$( ((quick)) && echo " --quick")$( ((${#parts[@]} < ${#ALL_PARTS[@]})) && echo " --only $(IFS=,; echo "${parts[*]}")")\`"
    echo "on $(date -u '+%Y-%m-%d %H:%M UTC'), git commit \`$commit\`$dirty, in $((($(date +%s) - RUN_START) / 60)) min."
    echo
    echo "| machine | |"
    echo "|---|---|"
    echo "| CPU | $(nproc) cores, $cpu_model |"
    echo "| memory | $(awk '/^MemTotal:/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo) |"
    echo "| OS | $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), kernel $(uname -r) |"
    echo "| .NET | $(dotnet --version 2>/dev/null) |"
    echo "| sipp | $(sipp -v 2>/dev/null | sed -n 's/^ *SIPp \(v[^ ,]*\).*/\1/p' | head -1 | sed 's/\.$//') |"
    echo "| Kamailio | $(kamailio -v 2>/dev/null | sed -n 's/^version: //p' | head -1) |"
    echo "| load average (1, 5, 15 min) at the start / at the end | $LOAD_AT_START / $load_now |"
    echo
    echo "Everything runs on this one machine over 127.0.0.1: the server under test, the load generator (sipp or ParkLoad)"
    echo "and anything else running at the time share the cores, so the load generator's own CPU is part of every figure."
    echo "\`\$TMP\` in a command is the run's temporary directory (\`mktemp -d\`; kept with \`--keep\`), where the generated users,"
    echo "the Kamailio configuration copy, the pools' data and logs and sipp's statistics live."
    echo
    echo "## Summary"
    echo
    echo "| figure | SipCallPark | Kamailio 5.6 | ratio | docs/design.md §10 target |"
    echo "|---|---:|---:|---:|---|"
    printf '%s\n' "${SUMMARY[@]}"
    echo
    echo "| part | ran |"
    echo "|---|---|"
    for p in "${ALL_PARTS[@]}"; do wants "$p" && echo "| $p | ${STATUS[$p]:-failed: no status} |"; done
    echo
    if awk -v l="${LOAD_AT_START%% *}" -v e="${load_now%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n || e > n) }'; then
        NOTES+=("The machine was busy with other jobs during this run (load average above its $(nproc) cores, see the machine table and each step's load avg): the figures are noisy lower bounds, good for spotting a regression but not as the servers' capacity. Re-run on a quiet machine to compare.")
    fi
    if ((${#NOTES[@]})); then
        echo "Notes:"
        echo
        printf -- '- %s\n' "${NOTES[@]}"
        echo
    fi
    echo "The pool runs with \`--log-level Warning\` for REGISTER, calls and park (Kamailio with \`debug=1\`), and with"
    echo "\`--Pool:Replication:Enabled=false\` for REGISTER and calls: no partner pool runs there and Kamailio does not"
    echo "replicate either. Kamailio runs 4 UDP worker processes (\`children=4\`), 256 MB shared memory."
    echo "Every pool runs with \`--Pool:RateLimit:Enabled=false\`: all the load comes from one address, which the"
    echo "per-source limit (5,000 requests/s by default) would otherwise cut, and Kamailio has no such limit here."
    echo
    for p in "${ALL_PARTS[@]}"; do
        [[ -f "$TMP/parts/$p.md" ]] && cat "$TMP/parts/$p.md"
    done
} >"$TMP/report.md"
# The temporary directory's path is noise in the commands: write it as $TMP.
sed "s#$TMP#\$TMP#g" "$TMP/report.md" >"$out"
log "report: $out"

failed_parts=()
for p in "${ALL_PARTS[@]}"; do
    wants "$p" || continue
    [[ "${STATUS[$p]:-}" == ok ]] || failed_parts+=("$p: ${STATUS[$p]:-no status}")
done
if ((${#failed_parts[@]})); then
    printf 'run.sh: a part could not run: %s\n' "${failed_parts[@]}" >&2
    exit 1
fi
exit 0
