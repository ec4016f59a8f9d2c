#!/usr/bin/env bash
# Browser proof of SIP over secure WebSocket (RFC 7118): JsSIP (npm, tools/interop/web/) in two headless Chromium
# browsers, driven through chromedriver's WebDriver HTTP API by web/drive.mjs, against a pool-a of its own with `wss`.
#
#   web-wss-register     alice and bob register over wss:// (digest), the pool's /registrations shows wss: sources
#   web-wss-call         alice calls bob through the pool: confirmed on both, ICE connected browser to browser on
#                        127.0.0.1 and audio RTP (Chromium's fake device) arriving at both
#   web-wss-hangup       alice's BYE ends bob's call
#   web-wss-message      alice's MESSAGE gets a 2xx and its text shows up in bob's page
#   web-park-webrtc-488  a WebRTC offer to sip:park@callpark.lab gets 488 with the DTLS-SRTP Warning
#   web-trace-pcap       the pool's own pcap shows the browsers' REGISTER, INVITE, MESSAGE and BYE in clear
#   web-blf              bob's browser subscribes to orbit 7000 (JsSIP Subscriber, Event: dialog, 407 answered): the
#                        first NOTIFY says terminated; run-park-sipp.sh parks a call there and retrieves it; the
#                        page's NOTIFY bodies go confirmed (parked) then terminated (free)
#
# The browsers trust exactly the pool's lab certificate (--ignore-certificate-errors-spki-list with its key's SHA-256).
# node_modules comes from `npm ci` (package-lock.json); nothing is fetched at run time beyond that.
# Free ports from 25560 unless INTEROP_POOL_A_SIP_PORT / _ADMIN_PORT / INTEROP_POOL_A_WSS_PORT say otherwise.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init web
require_tools node npm chromium chromedriver openssl sipsak curl python3 || exit 1

OUT="$INTEROP_TMP/web"
WEB="$INTEROP_DIR/web"
mkdir -p "$OUT"

skip() {
    printf 'SKIP  %-28s %s\n' "$1" "$2"
    printf '%s\tskip\t%s\n' "$1" "$2" >>"$INTEROP_RESULTS"
    [[ -n "${SIPCALLPARK_COUNTS:-}" ]] && echo "skipped=1" >>"$SIPCALLPARK_COUNTS"
    return 0
}

# ---------------------------------------------------------------- JsSIP from npm, bundled for the page

if [[ -z "${INTEROP_WEB_NETNS:-}" ]]; then  # outside the namespace (below) only: npm needs the registry
    if ! (cd "$WEB" && timeout 180 npm ci --no-audit --no-fund --loglevel=error >"$OUT/npm.log" 2>&1); then
        record web-npm fail "npm ci failed in $WEB: $(tail -3 "$OUT/npm.log" | tr '\n' ' ')"
        exit 1
    fi
    if ! (cd "$WEB" && timeout 60 ./node_modules/.bin/esbuild phone.js --bundle --format=iife --log-level=warning \
        --outfile="$OUT/phone.bundle.js" >"$OUT/esbuild.log" 2>&1); then
        record web-npm fail "esbuild could not bundle phone.js: $(tail -3 "$OUT/esbuild.log" | tr '\n' ' ')"
        exit 1
    fi
    cp "$WEB/phone.html" "$OUT/phone.html"
    interop_build || { record web-pool-start fail "dotnet build failed (see $INTEROP_TMP/build.log)"; exit 1; }
fi

# ---------------------------------------------------------------- a network namespace with loopback only

# WebRTC gathers ICE candidates on every interface; only 127.0.0.1 candidates are offered, but a browser may still send
# its checks from another local address. As root, the pool, chromedriver and both browsers therefore run in a network
# namespace of their own whose only interface is lo: nothing can leave it (npm ci and the build ran outside, above).
if [[ -z "${INTEROP_WEB_NETNS:-}" ]] && (($(id -u) == 0)) && command -v unshare >/dev/null && command -v ip >/dev/null; then
    INTEROP_WEB_NETNS=1 INTEROP_RUN_ALL=1 unshare --net -- bash -c 'ip link set lo up && exec bash "$0"' "$0" </dev/null
    exit $?
fi
[[ -n "${INTEROP_WEB_NETNS:-}" ]] || log "not root (or no unshare): running beside the machine's other interfaces"
export INTEROP_POOL_A_SIP_PORT=${INTEROP_POOL_A_SIP_PORT:-$(pick_sip_port 25560 20)}
export INTEROP_POOL_A_ADMIN_PORT=${INTEROP_POOL_A_ADMIN_PORT:-$(free_port $((INTEROP_POOL_A_SIP_PORT + 7)))}
WSS_PORT=${INTEROP_POOL_A_WSS_PORT:-$(free_port $((INTEROP_POOL_A_SIP_PORT + 3)))}
pool_start pool-a config/pool-a.json "--Pool:Sip:Transports:2=wss" "--Pool:Sip:SecureWebSocketPort=$WSS_PORT" \
    "--Pool:PcapFile=$OUT/pool-a.pcap" --Pool:Park:OrbitAssignment=Lowest || { record web-pool-start fail "could not start pool-a"; exit 1; }
if ! pool_wait_ready pool-a; then
    record web-pool-start fail "pool-a not ready: $POOL_NOT_READY_REASON"
    exit 1
fi
POOL_A_ADMIN=${POOL_ADMIN[pool-a]}
CERT="${POOL_DIR[pool-a]}/data/pool-a-tls.crt"
for ((i = 0; i < 40; i++)); do [[ -s "$CERT" ]] && break; sleep 0.25; done
SPKI=$(openssl x509 -in "$CERT" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
log "pool-a: WSS wss://127.0.0.1:$WSS_PORT, certificate $CERT (SPKI SHA-256 $SPKI)"

# ---------------------------------------------------------------- chromedriver and the two browsers

DRIVER_PORT=$(free_port $((INTEROP_POOL_A_SIP_PORT + 9)))
chromedriver --port="$DRIVER_PORT" --allowed-ips=127.0.0.1 --log-path="$OUT/chromedriver.log" >/dev/null 2>&1 </dev/null &
track_pid $!
for ((i = 0; i < 50; i++)); do curl -fsS -m 1 "http://127.0.0.1:$DRIVER_PORT/status" >/dev/null 2>&1 && break; sleep 0.2; done

# The lamp's park flow (web-blf): sipp parks a call on the lowest free orbit (7000) of this pool and retrieves it.
cat >"$OUT/park.sh" <<PARK
rc=0
env -u SIPCALLPARK_COUNTS INTEROP_RUN_ALL=1 INTEROP_RESULTS="$OUT/park-results.tsv" \\
    INTEROP_POOL_A_SIP="127.0.0.1:${POOL_SIP_PORT[pool-a]}" INTEROP_POOL_A_ADMIN="$POOL_A_ADMIN" \\
    timeout -k 5 40 bash "$INTEROP_DIR/run-park-sipp.sh" >"$OUT/park.log" 2>&1 || rc=\$?
grep -m1 -o 'X-Park-Orbit: [0-9]*' "$OUT/park.log"
exit \$rc
PARK

DRIVER="http://127.0.0.1:$DRIVER_PORT" PAGE="file://$OUT/phone.html" WSS="wss://127.0.0.1:$WSS_PORT" SPKI="$SPKI" \
    PROFILES="$OUT/profiles" ADMIN="$POOL_A_ADMIN" ORBIT=7000 PARK_CMD="bash $OUT/park.sh" timeout -k 5 100 node "$WEB/drive.mjs" >"$OUT/drive.out" 2>"$OUT/drive.err" </dev/null
drive_status=$?

seen=0
while IFS=$'\t' read -r tag name verdict detail; do
    [[ "$tag" == RESULT ]] || continue
    seen=$((seen + 1))
    record "$name" "$verdict" "$detail"
done <"$OUT/drive.out"
if ((drive_status != 0 || seen == 0)); then
    record web-driver fail "drive.mjs exited $drive_status after $seen results; see $OUT/drive.err and $OUT/chromedriver.log"
fi

# The pool's own trace holds the browsers' SIP in clear (decrypted from WSS), as SIP over TCP on the WSS port.
pool_stop pool-a
if command -v tshark >/dev/null; then
    traced=$(tshark -r "$OUT/pool-a.pcap" -d "tcp.port==$WSS_PORT,sip" -Y "sip && tcp.port==$WSS_PORT" -T fields -e sip.Method -e sip.Status-Code 2>/dev/null)
    methods=$(awk -F'\t' '$1 != "" { print $1 }' <<<"$traced" | sort -u | tr '\n' ' ')
    if [[ " $methods " == *" REGISTER "* && " $methods " == *" INVITE "* && " $methods " == *" MESSAGE "* && " $methods " == *" BYE "* ]]; then
        record web-trace-pcap pass "the pool's pcap shows $(grep -c . <<<"$traced") SIP messages in clear on tcp port $WSS_PORT (methods: $methods)"
    else
        record web-trace-pcap fail "the pool's pcap on tcp port $WSS_PORT shows methods '${methods:-none}'; see $OUT/pool-a.pcap"
    fi
else
    skip web-trace-pcap "tshark is not installed"
fi

((INTEROP_FAILURES == 0))
