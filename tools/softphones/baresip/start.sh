#!/usr/bin/env bash
# start.sh USER [--backup-first] [baresip options...] — baresip 1.0 as a lab user (alice, bob or carol), in the
# foreground on this terminal. Quit with "q" (or Ctrl+C); nothing keeps running afterwards.
#
# --backup-first swaps outbound and outbound2: pool-b (5062) first. baresip 1.0 sends calls and the transferee's
# INVITE to the first outbound only, so while pool-a is down restart the phone with this (docs/lab.md, step 7).
#
# --dns: one account whose outbound proxy is the domain itself over TCP (sip:callpark.lab;transport=tcp), resolved by
# the lab DNS (tools/lab-dns/lab-dns.sh start: SRV _sip._tcp.callpark.lab, pool-a priority 10, pool-b 20) at
# 127.0.0.1:5353 (LAB_DNS_PORT). The phone then moves to pool-b by itself when pool-a dies, and back after it
# returns, at its next re-registration (regint 60 s; docs/lab.md, step 7). No restart, no second account.
#
# The config dir in the repository is copied to /tmp/softphones-USER/conf first, because baresip writes into its
# config dir (the uuid file).
# Extra options go to baresip, e.g. "-s" for a SIP trace on the terminal, "-t 300" to quit after 300 s.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
user=${1:-}
if [[ -z "$user" || ! -f "$here/$user/accounts" ]]; then
    echo "usage: $0 USER [--backup-first | --dns] [baresip options] (USER: $(cd "$here" && ls -d */ | tr -d / | paste -sd ' ' -))" >&2
    exit 2
fi
shift
backup_first=0 dns=0
if [[ "${1:-}" == --backup-first ]]; then backup_first=1; shift; fi
if [[ "${1:-}" == --dns ]]; then dns=1; shift; fi
command -v baresip >/dev/null || { echo "baresip is not installed (apt-get install baresip)" >&2; exit 1; }
run=/tmp/softphones-$user
mkdir -p "$run/conf"
cp "$here/$user/config" "$here/$user/accounts" "$run/conf/"
if ((backup_first)); then
    sed -i 's/outbound="sip:127.0.0.1:5060";outbound2="sip:127.0.0.1:5062"/outbound="sip:127.0.0.1:5062";outbound2="sip:127.0.0.1:5060"/' \
        "$run/conf/accounts"
fi
if ((dns)); then
    printf 'dns_server\t\t127.0.0.1:%s\n' "${LAB_DNS_PORT:-5353}" >>"$run/conf/config"
    printf '<sip:%s@callpark.lab>;auth_user=%s;auth_pass=%s-lab-pw;outbound="sip:callpark.lab;transport=tcp";regint=60;answermode=manual;audio_codecs=pcmu,pcma;mwi=no;pubint=0\n' \
        "$user" "$user" "$user" >"$run/conf/accounts"
fi
port=$(awk '$1 == "sip_listen" { sub(/.*:/, "", $2); print $2 }' "$run/conf/config")
if ss -Hlun "sport = :$port" | grep -q .; then
    echo "UDP port $port is in use already (another $user?): ss -lunp 'sport = :$port'" >&2
    exit 1
fi
echo "baresip as $user on 127.0.0.1:$port (config $run/conf); q quits, h lists the keys" >&2
exec baresip -f "$run/conf" "$@"
