#!/usr/bin/env bash
# start.sh USER [baresip options...] — baresip 1.0 as a lab user (alice, bob or carol), in the foreground on this
# terminal. Quit with "q" (or Ctrl+C); nothing keeps running afterwards.
#
# The config dir in the repository is copied to /tmp/softphones-USER/conf first, because baresip writes into its
# config dir (the uuid file); received/sent audio goes to /tmp/softphones-USER/dump-*.wav (module sndfile).
# Extra options go to baresip, e.g. "-s" for a SIP trace on the terminal, "-t 300" to quit after 300 s.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
user=${1:-}
if [[ -z "$user" || ! -f "$here/$user/accounts" ]]; then
    echo "usage: $0 USER [baresip options]   (USER: $(cd "$here" && ls -d */ | tr -d / | paste -sd ' ' -))" >&2
    exit 2
fi
shift
command -v baresip >/dev/null || { echo "baresip is not installed (apt-get install baresip)" >&2; exit 1; }
run=/tmp/softphones-$user
mkdir -p "$run/conf"
cp "$here/$user/config" "$here/$user/accounts" "$run/conf/"
port=$(awk '$1 == "sip_listen" { sub(/.*:/, "", $2); print $2 }' "$run/conf/config")
if ss -Hlun "sport = :$port" | grep -q .; then
    echo "UDP port $port is in use already (another $user?): ss -lunp 'sport = :$port'" >&2
    exit 1
fi
echo "baresip as $user on 127.0.0.1:$port (config $run/conf); q quits, h lists the keys" >&2
exec baresip -f "$run/conf" "$@"
