#!/usr/bin/env bash
# Replays the security probe of issue 12 against real pools: starts pool-a and its partner pool-b (Release build, a
# topology of their own on free loopback ports, a temporary data directory), runs every executable
# tools/reliability/attacks/*.py and *.sh and prints each "ATTACK <name>: blocked|VULNERABLE|skipped (<evidence>)"
# line; then stops pool-b and runs attacks/partner.py --probe-answers-only (an impostor at the stopped partner's address).
#
# Each attack script gets ATTACK_SIP=127.0.0.1:PORT, ATTACK_ADMIN=http://127.0.0.1:PORT (pool-a),
# ATTACK_PARTNER_SIP, ATTACK_PARTNER_ADMIN (pool-b) and ATTACK_SECRET (Pool:Partner:Secret of the lab files, when
# set). With SIPCALLPARK_COUNTS set, writes passed=N / failed=N / skipped=N there (one per attack; a script that ends
# without any verdict counts as one failure). Exit 1 when any attack is VULNERABLE or a script failed; bounded to 3 minutes.
set -uo pipefail

if [[ -z "${ATTACK_BOUNDED:-}" ]]; then
    ATTACK_BOUNDED=1 exec timeout -k 10 180 bash "$0" "$@"
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=tools/reliability/lib.sh
source "$here/lib.sh"
configuration=${SIPCALLPARK_CONFIG:-Release}
dll=${ATTACK_POOL_DLL:-"$root/src/SipCallPark/bin/$configuration/net10.0/SipCallPark.dll"}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sipcallpark-attack.XXXXXX")
pids=()
passed=0
failed=0
skipped=0

cleanup() {
    local status=$?
    trap - EXIT TERM INT
    ((${#pids[@]})) && stop_pids "${pids[@]}"
    if ((failed == 0 && status == 0)); then rm -rf "$tmp"; else echo "attack: pool logs kept in $tmp" >&2; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

count() {
    if [[ -n "${SIPCALLPARK_COUNTS:-}" ]]; then echo "$1=1" >>"$SIPCALLPARK_COUNTS"; fi
    case $1 in
        passed) passed=$((passed + 1)) ;;
        skipped) skipped=$((skipped + 1)) ;;
        *) failed=$((failed + 1)) ;;
    esac
}

if [[ ! -f "$dll" ]]; then
    echo "attack: building $configuration (no $dll)" >&2
    (cd "$root" && dotnet build SipCallPark.sln -c "$configuration" -nologo -v quiet) >"$tmp/build.log" 2>&1 \
        || { tail -20 "$tmp/build.log" >&2; count failed; exit 1; }
fi

# Four ports free on UDP and TCP (SIP), two on TCP (admin): from ATTACK_PORT_BASE (default a random spot in 22000-27999).
read -r a_sip b_sip a_admin b_admin < <(python3 - "${ATTACK_PORT_BASE:-$((22000 + RANDOM % 6000))}" <<'PY'
import socket, sys
port, found = int(sys.argv[1]), []
while len(found) < 4 and port < 65000:
    ok = True
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            ok = False
        finally:
            s.close()
    if ok:
        found.append(port)
    port += 7
print(*found)
PY
)
media=$((42000 + 2 * (RANDOM % 2000)))
sed -e "s/127.0.0.1:5060/127.0.0.1:$a_sip/; s/127.0.0.1:5062/127.0.0.1:$b_sip/" \
    -e "s#http://127.0.0.1:8060#http://127.0.0.1:$a_admin#; s#http://127.0.0.1:8062#http://127.0.0.1:$b_admin#" \
    "$root/config/topology.json" >"$tmp/topology.json"
secret=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Pool"].get("Partner", {}).get("Secret", ""))' \
    "$root/config/pool-a.json" 2>/dev/null || true)

start_pool() {
    local name=$1 sip=$2 admin=$3 first_media=$4
    mkdir -p "$tmp/$name"
    (cd "$root" && exec dotnet "$dll" --config "config/$name.json" \
        "--Pool:Sip:Port=$sip" "--Pool:Admin:Url=http://127.0.0.1:$admin" "--Pool:TopologyFile=$tmp/topology.json" \
        "--Pool:DataDirectory=$tmp/$name/data" "--Pool:Park:MediaPorts=$first_media-$((first_media + 19))" \
        "--Serilog:WriteTo:1:Args:path=$tmp/$name/logs/$name-.json") >"$tmp/$name/pool.log" 2>&1 </dev/null &
    pids+=($!)
}
start_pool pool-a "$a_sip" "$a_admin" "$media"
start_pool pool-b "$b_sip" "$b_admin" "$((media + 20))"
for admin in "$a_admin" "$b_admin"; do
    if ! wait_healthy "http://127.0.0.1:$admin"; then
        echo "attack: a pool did not start; see $tmp/pool-*/pool.log" >&2
        count failed
        exit 1
    fi
done
echo "attack: pool-a SIP 127.0.0.1:$a_sip admin :$a_admin, pool-b SIP 127.0.0.1:$b_sip admin :$b_admin"

# run_attacks NAME SCRIPT [ARG ...]: runs one attack script and counts its verdict lines.
run_attacks() {
    local name=$1 script=$2 out="$tmp/$1.out" status=0 verdicts=0 line
    shift 2
    ATTACK_SIP="127.0.0.1:$a_sip" ATTACK_ADMIN="http://127.0.0.1:$a_admin" \
        ATTACK_PARTNER_SIP="127.0.0.1:$b_sip" ATTACK_PARTNER_ADMIN="http://127.0.0.1:$b_admin" ATTACK_SECRET="$secret" \
        timeout -k 5 120 "$script" "$@" >"$out" 2>"$tmp/$name.err" </dev/null || status=$?
    while IFS= read -r line; do
        [[ $line =~ ^ATTACK\ .*:\ (blocked|VULNERABLE|skipped)\  ]] || continue
        echo "$line"
        verdicts=$((verdicts + 1))
        case ${BASH_REMATCH[1]} in
            blocked) count passed ;;
            skipped) count skipped ;;
            *) count failed ;;
        esac
    done <"$out"
    if ((verdicts == 0 || status != 0)); then
        echo "ATTACK $name: script failed (exit $status, $verdicts verdicts; see $tmp/$name.err)"
        tail -5 "$tmp/$name.err" >&2
        count failed
    fi
}

shopt -s nullglob
scripts=("$here"/attacks/*.py "$here"/attacks/*.sh)
shopt -u nullglob
for script in "${scripts[@]}"; do
    [[ -x "$script" ]] || continue
    run_attacks "$(basename "$script")" "$script"
done

# The impostor at the partner's address needs the partner gone: stop pool-b (by PID) and let the script take its port.
stop_pids "${pids[1]}"
if [[ -x "$here/attacks/partner.py" ]]; then
    run_attacks partner-probe-answers "$here/attacks/partner.py" --probe-answers-only
fi
echo "attack: $passed blocked, $failed vulnerable or failed, $skipped skipped"
((failed == 0))
