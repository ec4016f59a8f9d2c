#!/usr/bin/env bash
# start-daemon.sh USER — linphone-daemon (headless Linphone) as a lab user (alice, bob or carol), in the
# foreground: its answers and call events print on this terminal (and into /tmp/softphones-lp-USER/out.log).
# Send commands from another terminal, one per line, into its FIFO:
#     echo 'register-status ALL'                     > /tmp/softphones-lp-USER/cmd
#     echo 'call sip:bob@callpark.lab'               > /tmp/softphones-lp-USER/cmd
#     echo 'answer 1'                                > /tmp/softphones-lp-USER/cmd
#     echo 'call-transfer 1 sip:park@callpark.lab'   > /tmp/softphones-lp-USER/cmd   (park: blind transfer)
#     echo 'call sip:7001@callpark.lab'              > /tmp/softphones-lp-USER/cmd   (retrieve: dial the orbit)
#     echo 'terminate'                               > /tmp/softphones-lp-USER/cmd
#     echo 'quit'                                    > /tmp/softphones-lp-USER/cmd   (or Ctrl+C here)
# Its HOME is /tmp/softphones-lp-USER (liblinphone keeps its databases there); the SIP log with every message is
# /tmp/softphones-lp-USER/daemon.log. Extra options go to linphone-daemon, e.g. --auto-answer.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
user=${1:-}
if [[ -z "$user" || ! -f "$here/$user/linphonerc" ]]; then
    echo "usage: $0 USER [linphone-daemon options]   (USER: $(cd "$here" && ls -d */ | tr -d / | paste -sd ' ' -))" >&2
    exit 2
fi
shift
command -v linphone-daemon >/dev/null || { echo "linphone-daemon is not installed (apt-get install linphone-cli)" >&2; exit 1; }
run=/tmp/softphones-lp-$user
mkdir -p "$run/.local/share/linphone"
# a copy: liblinphone rewrites its config file while it runs
cp "$here/$user/linphonerc" "$run/linphonerc"
port=$(awk -F= '$1 == "sip_port" { print $2 }' "$run/linphonerc")
if ss -Hlun "sport = :$port" | grep -q .; then
    echo "UDP port $port is in use already (another $user?): ss -lunp 'sport = :$port'" >&2
    exit 1
fi
rm -f "$run/cmd"
mkfifo "$run/cmd"
# The daemon reads the FIFO; a writer that never writes keeps it open between your echo commands.
sleep infinity >"$run/cmd" &
holder=$!
trap 'kill "$holder" 2>/dev/null; rm -f "$run/cmd"' EXIT
echo "linphone-daemon as $user on 127.0.0.1:$port; commands: echo '...' > $run/cmd; SIP log: $run/daemon.log" >&2
HOME="$run" linphone-daemon --config "$run/linphonerc" --log "$run/daemon.log" --disable-stats-events "$@" \
    <"$run/cmd" 2>&1 | tee "$run/out.log"
