#!/usr/bin/env bash
# Shared helpers for the interop scripts in tools/interop. Source it; running it does nothing.
#
#   interop_init SUITE        temp dir, EXIT trap, fresh results file (unless run-all.sh owns them)
#   interop_build             dotnet build -c Release once, when the pool's dll is missing or older than the sources
#   pool_start NAME CONFIG    the pool in the background with its data and logs under the temp dir
#   pool_wait_ready NAME      polls SIP OPTIONS (sipsak) until the pool answers, bounded
#   pool_stop NAME            SIGTERM, then SIGKILL after a bound
#   record NAME pass|fail D   one line "NAME<TAB>pass|fail<TAB>D" in $INTEROP_RESULTS (and CI counts)
#   track_pid PID / stop_pid PID   every process a script starts is stopped by its PID on exit
#
# Everything listens on 127.0.0.1 only. Every wait is a bounded loop.

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    echo "lib.sh is a library for the other tools/interop scripts; nothing to run." >&2
    exit 0
fi

INTEROP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$INTEROP_DIR/../.." && pwd)
: "${INTEROP_RESULTS:=$INTEROP_DIR/results.tsv}"
export INTEROP_RESULTS
INTEROP_CONFIGURATION=${SIPCALLPARK_CONFIG:-Release}
POOL_DLL="$REPO_ROOT/src/SipCallPark/bin/$INTEROP_CONFIGURATION/net10.0/SipCallPark.dll"

INTEROP_PIDS=()
INTEROP_FAILURES=0
INTEROP_OWNS_TMP=0
declare -A POOL_PID=() POOL_SIP_PORT=() POOL_ADMIN=() POOL_DIR=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------- setup and cleanup

interop_init() {
    local suite=$1
    INTEROP_SUITE=$suite
    if [[ -z "${INTEROP_TMP:-}" ]]; then
        INTEROP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sipcallpark-interop.XXXXXX")
        INTEROP_OWNS_TMP=1
        export INTEROP_TMP
    fi
    mkdir -p "$INTEROP_TMP/$suite"
    # The outermost script starts a fresh results file; suites run by run-all.sh append to its file.
    if [[ -z "${INTEROP_RUN_ALL:-}" || "$suite" == all ]]; then
        mkdir -p "$(dirname "$INTEROP_RESULTS")"
        : >"$INTEROP_RESULTS"
    fi
    trap interop_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

interop_cleanup() {
    local status=$?
    trap - EXIT
    local name pid
    for name in "${!POOL_PID[@]}"; do pool_stop "$name"; done
    for pid in "${INTEROP_PIDS[@]}"; do stop_pid "$pid"; done
    if ((INTEROP_OWNS_TMP)); then
        if ((INTEROP_FAILURES == 0 && status == 0)) && [[ "${INTEROP_KEEP:-0}" != 1 ]]; then
            rm -rf "$INTEROP_TMP"
        else
            log "traces, logs and configs kept in $INTEROP_TMP"
        fi
    fi
    exit "$status"
}

track_pid() { INTEROP_PIDS+=("$1"); }

# stop_pid PID [GRACE_TENTHS]: SIGTERM, wait up to GRACE (default 5 s), then SIGKILL. Only PIDs we started.
stop_pid() {
    local pid=$1 grace=${2:-50} i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < grace; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "PID $pid did not stop within $((grace / 10)) s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    return 0
}

# ---------------------------------------------------------------- results

# record NAME pass|fail DETAIL
record() {
    local name=$1 verdict=$2 detail=${3:-}
    detail=${detail//$'\t'/ }
    detail=${detail//$'\n'/ }
    detail=${detail//$'\r'/}
    printf '%s\t%s\t%s\n' "$name" "$verdict" "$detail" >>"$INTEROP_RESULTS"
    if [[ -n "${SIPCALLPARK_COUNTS:-}" ]]; then
        if [[ "$verdict" == pass ]]; then echo "passed=1"; else echo "failed=1"; fi >>"$SIPCALLPARK_COUNTS"
    fi
    if [[ "$verdict" == pass ]]; then
        printf 'PASS  %-28s %s\n' "$name" "$detail"
    else
        INTEROP_FAILURES=$((INTEROP_FAILURES + 1))
        printf 'FAIL  %-28s %s\n' "$name" "$detail"
    fi
}

# When .ci/run calls every tools/interop/*.sh, only run-all.sh does the work, so nothing is counted twice.
skip_if_ci_runs_all() {
    if [[ -n "${SIPCALLPARK_COUNTS:-}" && -z "${INTEROP_RUN_ALL:-}" ]]; then
        echo "$(basename "$0"): run by run-all.sh under CI; nothing to do here."
        exit 0
    fi
}

require_tools() {
    local tool missing=()
    for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
    if ((${#missing[@]})); then
        record "${INTEROP_SUITE:-interop}-tools" fail "missing: ${missing[*]} (apt-get install sip-tester sipsak baresip linphone-cli)"
        return 1
    fi
}

# ---------------------------------------------------------------- build

interop_build() {
    if [[ -f "$POOL_DLL" ]] && [[ -z $(find "$REPO_ROOT/src" \( -name '*.cs' -o -name '*.csproj' \) -newer "$POOL_DLL" -print -quit) ]]; then
        return 0
    fi
    log "building $INTEROP_CONFIGURATION (the pool's dll is missing or older than the sources)"
    if ! (cd "$REPO_ROOT" && timeout 600 dotnet build -c "$INTEROP_CONFIGURATION" -nologo -v quiet SipCallPark.sln \
        >"$INTEROP_TMP/build.log" 2>&1); then
        tail -30 "$INTEROP_TMP/build.log" >&2
        return 1
    fi
    [[ -f "$POOL_DLL" ]] || { log "build succeeded but $POOL_DLL is missing"; return 1; }
}

# ---------------------------------------------------------------- the pool

# sip_answers PORT: 0 when anything on 127.0.0.1:PORT answers an OPTIONS (sipsak: 0 = 200, 1 = another final).
sip_answers() {
    local port=$1 rc=0
    timeout 5 sipsak -s "sip:ping@127.0.0.1:$port" -H 127.0.0.1 >/dev/null 2>&1 || rc=$?
    ((rc == 0 || rc == 1))
}

udp_port_bound() { [[ -n $(ss -Hlun "sport = :$1" 2>/dev/null) ]]; }

# pool_start NAME CONFIG [--Key=value ...]. Ports come from the config unless INTEROP_<NAME>_SIP_PORT /
# INTEROP_<NAME>_ADMIN_PORT are set (e.g. INTEROP_POOL_A_SIP_PORT=15060).
pool_start() {
    local name=$1 config=$2
    shift 2
    local var=${name^^}
    var=${var//-/_}
    local sip_var="INTEROP_${var}_SIP_PORT" admin_var="INTEROP_${var}_ADMIN_PORT"
    local sip_port admin_url
    sip_port=${!sip_var:-$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Pool"]["Sip"]["Port"])' "$REPO_ROOT/$config")}
    admin_url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Pool"]["Admin"]["Url"])' "$REPO_ROOT/$config")
    if [[ -n "${!admin_var:-}" ]]; then admin_url="http://127.0.0.1:${!admin_var}"; fi
    local dir="$INTEROP_TMP/$name"
    mkdir -p "$dir/data" "$dir/logs"

    if udp_port_bound "$sip_port"; then
        log "UDP 127.0.0.1:$sip_port is already in use (another pool or test?); not testing someone else's server"
        return 1
    fi
    log "starting $name from $config: SIP 127.0.0.1:$sip_port, admin $admin_url, state in $dir"
    (cd "$REPO_ROOT" && exec dotnet "$POOL_DLL" --config "$config" \
        "--Pool:DataDirectory=$dir/data" \
        "--Pool:Sip:Port=$sip_port" \
        "--Pool:Admin:Url=$admin_url" \
        "--Serilog:WriteTo:1:Args:path=$dir/logs/$name-.json" \
        "$@") >"$dir/pool.log" 2>&1 </dev/null &
    POOL_PID[$name]=$!
    POOL_SIP_PORT[$name]=$sip_port
    POOL_ADMIN[$name]=$admin_url
    POOL_DIR[$name]=$dir
}

# pool_wait_ready NAME [TRIES]: up to TRIES × 0.5 s (default 60) for SIP to answer on the pool's port.
pool_wait_ready() {
    local name=$1 tries=${2:-60} i
    local pid=${POOL_PID[$name]} port=${POOL_SIP_PORT[$name]}
    for ((i = 0; i < tries; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null
            log "$name exited during start-up; last lines of ${POOL_DIR[$name]}/pool.log:"
            tail -15 "${POOL_DIR[$name]}/pool.log" >&2
            unset "POOL_PID[$name]"
            POOL_NOT_READY_REASON="the pool process exited during start-up"
            return 1
        fi
        if sip_answers "$port"; then
            log "$name answers SIP on 127.0.0.1:$port (after $((i * 5 / 10)).$((i * 5 % 10)) s)"
            return 0
        fi
        sleep 0.5
    done
    if curl -fsS -m 2 "${POOL_ADMIN[$name]}/healthz" >/dev/null 2>&1; then
        POOL_NOT_READY_REASON="admin /healthz answers but SIP on 127.0.0.1:$port does not (SIP stack not wired?)"
    else
        POOL_NOT_READY_REASON="neither SIP on 127.0.0.1:$port nor ${POOL_ADMIN[$name]}/healthz answered in $((tries / 2)) s"
    fi
    log "$name not ready: $POOL_NOT_READY_REASON; last lines of ${POOL_DIR[$name]}/pool.log:"
    tail -8 "${POOL_DIR[$name]}/pool.log" >&2
    return 1
}

pool_alive() { [[ -n "${POOL_PID[$1]:-}" ]] && kill -0 "${POOL_PID[$1]}" 2>/dev/null; }

pool_stop() {
    local name=$1
    [[ -n "${POOL_PID[$name]:-}" ]] || return 0
    stop_pid "${POOL_PID[$name]}" 100
    unset "POOL_PID[$name]"
}

# start_pool_a_or_use_given: sets POOL_A_SIP_PORT / POOL_A_ADMIN; starts pool-a unless run-all.sh (or the user)
# already gave one in INTEROP_POOL_A_SIP (host:port) and INTEROP_POOL_A_ADMIN (url).
use_or_start_pool_a() {
    if [[ -n "${INTEROP_POOL_A_SIP:-}" ]]; then
        POOL_A_SIP_PORT=${INTEROP_POOL_A_SIP##*:}
        POOL_A_ADMIN=${INTEROP_POOL_A_ADMIN:-http://127.0.0.1:8060}
        return 0
    fi
    interop_build || { record "${INTEROP_SUITE}-pool-start" fail "dotnet build failed (see $INTEROP_TMP/build.log)"; return 1; }
    # shellcheck disable=SC2086 # INTEROP_POOL_ARGS is a list of --Key=value overrides
    pool_start pool-a config/pool-a.json ${INTEROP_POOL_ARGS:-} || { record "${INTEROP_SUITE}-pool-start" fail "could not start pool-a"; return 1; }
    if ! pool_wait_ready pool-a; then
        record "${INTEROP_SUITE}-pool-start" fail "pool-a not ready: $POOL_NOT_READY_REASON"
        return 1
    fi
    POOL_A_SIP_PORT=${POOL_SIP_PORT[pool-a]}
    POOL_A_ADMIN=${POOL_ADMIN[pool-a]}
}

# ---------------------------------------------------------------- misc

# free_port START: the first port from START (step 10, 50 tries) with nothing bound on UDP or TCP.
free_port() {
    local port=$1 i
    for ((i = 0; i < 50; i++)); do
        if [[ -z $(ss -Hlun "sport = :$port" 2>/dev/null) && -z $(ss -Hltn "sport = :$port" 2>/dev/null) ]]; then
            echo "$port"
            return 0
        fi
        port=$((port + 10))
    done
    return 1
}

# ---------------------------------------------------------------- sipp (suites set OUT, their traces directory)

# run_sipp NAME WALL_SECONDS ARGS...: sipp in the foreground with its error and message traces and the final
# statistics screen under $OUT/NAME.*; returns sipp's exit code (124 when the wall-clock bound stopped it).
run_sipp() {
    local name=$1 wall=$2
    shift 2
    local rc=0
    timeout -k 5 "$wall" sipp "$@" -i 127.0.0.1 -nostdin \
        -trace_err -error_file "$OUT/$name.errors.log" \
        -trace_msg -message_file "$OUT/$name.messages.log" \
        >"$OUT/$name.screen.log" 2>"$OUT/$name.stderr.log" </dev/null || rc=$?
    return "$rc"
}

# first_error NAME: sipp's first logged error (the log runs messages together; split them on their timestamps).
first_error() {
    local f="$OUT/$1.errors.log"
    [[ -s "$f" ]] || return 0
    sed -E 's/([0-9]{4}-[0-9]{2}-[0-9]{2}\t)/\n\1/g' "$f" | grep -E '^[0-9]{4}-' | grep -v 'epoll' | head -1 |
        sed -E 's/^[0-9-]+\t[0-9:.]+\t[0-9.]+: //' | cut -c1-200
}

# last_received NAME: the start line of the last message the sipp NAME received (what it got instead).
last_received() {
    awk '/message received/ { getline; getline; last = $0 } END { print last }' "$OUT/$1.messages.log" 2>/dev/null | tr -d '\r'
}

# ---------------------------------------------------------------- baresip (suites set OUT, CTL, LIFETIME)

BARESIP_TEMPLATES="$INTEROP_DIR/baresip"
BARESIP_PIDS=()

# sip_ports_free PORT: PORT (UDP+TCP), PORT+1 (baresip's TLS) and PORT+4 (its ctrl_tcp) unused.
sip_ports_free() {
    local p
    for p in "$1" $(($1 + 1)) $(($1 + 4)); do
        [[ -z $(ss -Hlun "sport = :$p" 2>/dev/null) && -z $(ss -Hltn "sport = :$p" 2>/dev/null) ]] || return 1
    done
}

# pick_sip_port START [STEP]: the first START + k·STEP (STEP 20 by default, 30 tries) whose ports are all free.
pick_sip_port() {
    local port=$1 step=${2:-20} i
    for ((i = 0; i < 30; i++)); do
        if sip_ports_free "$port"; then echo "$port"; return 0; fi
        port=$((port + step))
    done
    return 1
}

# start_phone NAME PASSWORD ANSWERMODE SIP_PORT RTP_BASE: config under $OUT/NAME, baresip and its ctrl session.
# With BARESIP_DNS_SERVER=IP:PORT set, the phone asks that DNS server (tools/lab-dns) and its account is
# accounts-dns.template: the pools found by RFC 3263 SRV for callpark.lab over TCP, re-registering every
# BARESIP_REGINT seconds (default 60).
start_phone() {
    local name=$1 pass=$2 mode=$3 port=$4 rtp=$5
    local dir="$OUT/$name" accounts=accounts.template
    mkdir -p "$dir"
    sed -e "s/@SIP_PORT@/$port/g" -e "s/@CTRL_PORT@/$((port + 4))/g" -e "s/@RTP_PORTS@/$rtp-$((rtp + 19))/g" \
        "$BARESIP_TEMPLATES/config.template" >"$dir/config"
    if [[ -n "${BARESIP_DNS_SERVER:-}" ]]; then
        printf 'dns_server\t\t%s\n' "$BARESIP_DNS_SERVER" >>"$dir/config"
        accounts=accounts-dns.template
    fi
    sed -e "s/@USER@/$name/g" -e "s/@PASS@/$pass/g" -e "s/@POOL_PORT@/${POOL_A_SIP_PORT:-}/g" -e "s/@ANSWERMODE@/$mode/g" \
        -e "s/@REGINT@/${BARESIP_REGINT:-60}/g" "$BARESIP_TEMPLATES/$accounts" | grep -v '^#' >"$dir/accounts"
    # -s: baresip prints every SIP message it sends and receives into its log; -t: it quits by itself at the bound.
    baresip -f "$dir" -s -t "$LIFETIME" >"$dir/baresip.log" 2>&1 </dev/null &
    track_pid $!
    BARESIP_PIDS+=($!)
    "${CTL[@]}" session --port $((port + 4)) --dir "$dir/ctl" --timeout "$LIFETIME" >"$dir/session.log" 2>&1 &
    track_pid $!
}

# registered NAME: baresip's reginfo shows the account OK (polled, bounded 20 × 0.5 s); else prints what it shows.
registered() {
    local name=$1 i info
    for ((i = 0; i < 20; i++)); do
        info=$("${CTL[@]}" send --dir "$OUT/$name/ctl" --timeout 2 reginfo 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g')
        if grep -q "sip:$name@callpark.lab *OK" <<<"$info"; then return 0; fi
        sleep 0.5
    done
    echo "$info" | grep "sip:$name" | tr -s ' ' | head -1
    return 1
}

# ---------------------------------------------------------------- baresip without a python per step
# (python3 starts slowly on a loaded machine; these only touch the session's FIFO and events.jsonl)

# bsend NAME COMMAND [PARAMS]: writes one command into NAME's ctrl session FIFO ($OUT/NAME/ctl/cmd) and prints its
# token; does not wait for the response (bresponse TOKEN does). The session keeps the FIFO open, so this never blocks
# on a live session; `timeout` bounds it when the session is gone.
bsend() {
    local name=$1 command=$2 params=${3:-} token
    token="b$RANDOM$RANDOM"
    params=${params//\\/\\\\}
    params=${params//\"/\\\"}
    local json="{\"command\": \"$command\", \"token\": \"$token\""
    [[ -n "$params" ]] && json+=", \"params\": \"$params\""
    json+="}"
    timeout 3 sh -c 'printf "%s\n" "$1" >"$2"' _ "$json" "$OUT/$name/ctl/cmd" || return 1
    echo "$token"
}

# bresponse NAME TOKEN [TENTHS]: the response line (JSON) to that command, polled in 0.1 s steps (default 50).
bresponse() {
    local name=$1 token=$2 tries=${3:-50} i line
    for ((i = 0; i < tries; i++)); do
        line=$(grep -F "\"token\": \"$token\"" "$OUT/$name/ctl/events.jsonl" 2>/dev/null | grep -F '"response": true' | head -1)
        [[ -n "$line" ]] && { echo "$line"; return 0; }
        sleep 0.1
    done
    return 1
}

# bcount NAME TYPE: how many ctrl_tcp events of TYPE NAME's phone has sent so far.
bcount() { grep -c "\"type\": \"$2\"" "$OUT/$1/ctl/events.jsonl" 2>/dev/null || true; }

# bwait NAME TYPE COUNT SECONDS: until NAME has sent at least COUNT events of TYPE (0.2 s steps).
bwait() {
    local name=$1 type=$2 count=$3 tries=$(($4 * 5)) i
    for ((i = 0; i < tries; i++)); do
        (($(bcount "$name" "$type") >= count)) && return 0
        sleep 0.2
    done
    return 1
}

# sip_responses LOG FROM_PORT: the responses a phone received from 127.0.0.1:FROM_PORT, read from its SIP trace
# (baresip -s: a line "UDP 127.0.0.1:SRC -> 127.0.0.1:DST" before each message; liblinphone's log: "received [N] new
# bytes from [UDP://127.0.0.1:SRC]"), one a line: status line<TAB>CSeq<TAB>X-Registration-Mode<TAB>Warning.
sip_responses() {
    sed 's/\x1b\[[0-9;]*m//g' "$1" 2>/dev/null | tr -d '\r' | awk -v from="127.0.0.1:$2" '
        function emit() { if (start != "") print start "\t" cseq "\t" mode "\t" warn; start = cseq = mode = warn = ""; grab = 0 }
        /^(UDP|TCP) [0-9.:]+ -> / { emit(); grab = ($2 == from); next }
        / received \[[0-9]+\] new bytes from / { emit(); grab = (index($0, "://" from "]") > 0); next }
        !grab { next }
        start == "" { if ($0 ~ /^SIP\/2\.0 [0-9]+/) start = $0; else if (NF > 0) grab = 0; next }
        /^CSeq:/ { cseq = $0 } /^X-Registration-Mode:/ { mode = $2 } /^Warning:/ { warn = substr($0, 10) }
        NF == 0 { emit() }
        END { emit() }'
}

# ---------------------------------------------------------------- the admin API without python

# json_records URL: the JSON objects of an admin list (GET URL), one a line (the API writes flat compact objects).
json_records() { { curl -fsS -m 3 "$1" 2>/dev/null; echo; } | sed 's/^\[//; s/\]$//; s/},{/}\n{/g' | grep -F '{'; }
# json_field NAME: the string (or number) value of NAME in each object line on stdin.
json_field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p"; }
# dr_phase ADMIN_URL POOL: the DR phase that pool's GET /status reports for POOL (empty when it does not answer).
dr_phase() {
    curl -fsS -m 2 "$1/status" 2>/dev/null | grep -o "{\"pool\":\"$2\",\"phase\":\"[A-Za-z]*\"" | sed 's/.*"phase":"//; s/"$//'
}
