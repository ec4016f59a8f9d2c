#!/usr/bin/env bash
# REGISTER throughput of one pool with digest authentication on: sipp runs register-load.xml (401, then 200)
# for the four pool-a lab users at increasing rates, INTEROP_BENCH_SECONDS (default 10) at each, and reports the
# highest rate that finished with zero failed calls. A measurement, not a test: nothing goes to results.tsv.
# (It lives below tools/interop so that .ci/run, which runs tools/interop/*.sh, does not run it.)
#
#   tools/interop/bench/register-rate.sh                 rates 250 500 1000 2000 4000 8000 (stops after 2 failing)
#   tools/interop/bench/register-rate.sh 1000 1500 2000  these rates
#   tools/interop/bench/register-rate.sh --kamailio ...  then the same rates against Kamailio (kamailio-reference.cfg)
# Uses pool-a started here, or the pool in INTEROP_POOL_A_SIP=127.0.0.1:PORT.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
interop_init bench
require_tools sipp sipsak python3 || exit 1

SECONDS_PER_RATE=${INTEROP_BENCH_SECONDS:-10}
with_kamailio=0
rates=()
for a in "$@"; do
    case $a in
        --kamailio) with_kamailio=1 ;;
        *) rates+=("$a") ;;
    esac
done
((${#rates[@]})) || rates=(250 500 1000 2000 4000 8000)
OUT="$INTEROP_TMP/bench"
INTEROP_KEEP=1 # the statistics files are the point: keep them

# last_stat FILE COLUMN: the column's value in the last row of a sipp -trace_stat file (';' separated).
last_stat() {
    awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next } { v = $c } END { print (v == "" ? "?" : v) }' "$1"
}

# measure LABEL PORT: every rate against 127.0.0.1:PORT; prints a table and the best rates.
measure() {
    local label=$1 port=$2 rate calls stat rc start_ns took_ms took ok failed retrans achieved
    local best=0 best_cmd="" clean=0 failing=0
    echo "== $label (127.0.0.1:$port), $SECONDS_PER_RATE s per rate"
    printf '%-8s %-10s %-8s %-8s %-8s %-9s %s\n' rate/s calls ok failed retrans seconds achieved/s
    for rate in "${rates[@]}"; do
        calls=$((rate * SECONDS_PER_RATE))
        stat="$OUT/$label-register-$rate.csv"
        local cmd=(sipp -sf "$INTEROP_DIR/sipp/register-load.xml" -inf "$INTEROP_DIR/sipp/users-pool-a.csv"
            -i 127.0.0.1 -p "$(free_port 15400)" -r "$rate" -rp 1000 -m "$calls" -l $((rate * 2))
            -recv_timeout 5000 -nostdin -trace_stat -stf "$stat" -fd 1 "127.0.0.1:$port")
        start_ns=$(date +%s%N)
        rc=0
        timeout -k 5 $((SECONDS_PER_RATE + 40)) "${cmd[@]}" >"$OUT/$label-register-$rate.screen.log" \
            2>"$OUT/$label-register-$rate.stderr.log" </dev/null || rc=$?
        took_ms=$((($(date +%s%N) - start_ns) / 1000000))
        took=$((took_ms / 1000)).$(printf '%03d' $((took_ms % 1000)))
        ok=$(last_stat "$stat" 'SuccessfulCall(C)')
        failed=$(last_stat "$stat" 'FailedCall(C)')
        retrans=$(last_stat "$stat" 'Retransmissions(C)')
        achieved="?"
        [[ "$ok" =~ ^[0-9]+$ ]] && ((took_ms > 0)) && achieved=$((ok * 1000 / took_ms))
        printf '%-8s %-10s %-8s %-8s %-8s %-9s %s%s\n' "$rate" "$calls" "$ok" "$failed" "$retrans" "$took" "$achieved" \
            "$( ((rc != 0)) && echo "  (sipp exit $rc)")"
        if ((rc == 0)) && [[ "$failed" == 0 && "$ok" == "$calls" ]]; then
            best=$rate best_cmd="${cmd[*]}"
            [[ "$retrans" == 0 ]] && clean=$rate
            failing=0
        else
            failing=$((failing + 1))
            ((failing >= 2)) && break
        fi
        if ! sip_answers "$port"; then
            echo "127.0.0.1:$port stopped answering OPTIONS after $rate/s; stopping" >&2
            break
        fi
    done
    if ((best > 0)); then
        echo "$label: highest rate with zero failed calls: $best REGISTER/s (highest without retransmissions: $( ((clean)) && echo "$clean/s" || echo none))"
        echo "$label: command: $best_cmd"
    else
        echo "$label: no rate finished without failures"
    fi
    echo
}

use_or_start_pool_a || exit 1
measure pool "$POOL_A_SIP_PORT"

if ((with_kamailio)); then
    require_tools kamailio || exit 1
    kport=$(free_port 15460)
    mkdir -p "$OUT/kamailio"
    kamailio -f "$INTEROP_DIR/bench/kamailio-reference.cfg" -l "udp:127.0.0.1:$kport" -DD -E -m 256 -M 16 \
        -Y "$OUT/kamailio" >"$OUT/kamailio/kamailio.log" 2>&1 </dev/null &
    track_pid $!
    for ((i = 0; i < 40; i++)); do sip_answers "$kport" && break; sleep 0.25; done
    if sip_answers "$kport"; then
        measure kamailio "$kport"
    else
        echo "Kamailio did not answer on 127.0.0.1:$kport; see $OUT/kamailio/kamailio.log" >&2
    fi
fi
echo "statistics: $OUT"
