#!/usr/bin/env bash
# SIP over TLS with real peers (RFC 3261 §26, issue 16): pool-a with `tls` on its own port, its self-signed lab
# certificate (made in the data directory on first start) and Pool:Sip:Tls:KeyLogFile set.
#   tls-sipp           Debian's sipp 3.6.1 is built without OpenSSL ("-t l1" is refused): recorded as skipped;
#                      openssl, baresip and linphone stand in for it below
#   tls-openssl        openssl s_client verifies the pool's certificate against the lab certificate file (IP SAN
#                      127.0.0.1, -verify_return_error) and gets 200 for an OPTIONS over the TLS connection
#   tls-sipsak         skipped: sipsak 0.9.8.1's TLS mode cannot talk to any TLS server here (see below)
#   tls-baresip-register alice and bob (baresip 1.0, sip_cafile = the lab certificate) register over TLS
#   tls-baresip-call   alice calls bob over TLS: established on both, the INVITE reached bob over TLS from the pool's
#                      TLS port (his own connection), alice hangs up, closed on both
#   tls-linphone       linphone-daemon (root_ca = the lab certificate) registers over TLS and calls baresip bob
#   tls-keylog-tshark  tshark, given only the capture of the encrypted loopback traffic and the pool's key log
#                      (-o tls.keylog_file:FILE), decodes the SIP inside; the pool's own pcap holds the same messages
#                      in clear as TCP on the TLS port
# Runs its own pool-a on free ports (INTEROP_POOL_A_SIP_PORT / _ADMIN_PORT / INTEROP_POOL_A_TLS_PORT override them),
# so it can run beside run-all.sh's pools. Results: tools/interop/results.tsv (see README.md).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init tls
require_tools sipsak openssl baresip python3 curl || exit 1  # sipsak: pool_wait_ready's OPTIONS over UDP

CTL=("python3" "$INTEROP_DIR/baresip_ctl.py")
OUT="$INTEROP_TMP/tls"
LIFETIME=${INTEROP_BARESIP_LIFETIME:-90}
mkdir -p "$OUT"

skip() {
    printf 'SKIP  %-28s %s\n' "$1" "$2"
    printf '%s\tskip\t%s\n' "$1" "$2" >>"$INTEROP_RESULTS"
    [[ -n "${SIPCALLPARK_COUNTS:-}" ]] && echo "skipped=1" >>"$SIPCALLPARK_COUNTS"
    return 0
}

# ---------------------------------------------------------------- pool-a with TLS

interop_build || { record tls-pool-start fail "dotnet build failed (see $INTEROP_TMP/build.log)"; exit 1; }
export INTEROP_POOL_A_SIP_PORT=${INTEROP_POOL_A_SIP_PORT:-$(pick_sip_port 25060 20)}
export INTEROP_POOL_A_ADMIN_PORT=${INTEROP_POOL_A_ADMIN_PORT:-$(free_port $((INTEROP_POOL_A_SIP_PORT + 7)))}
TLS_PORT=${INTEROP_POOL_A_TLS_PORT:-$((INTEROP_POOL_A_SIP_PORT + 1))}
KEYLOG="$OUT/pool-keys.log"
CAPTURE="$OUT/loopback-tls.pcap"

# Capture the encrypted traffic on the TLS port from the start (root, or dumpcap's capabilities, needed).
TSHARK_PID=""
if command -v tshark >/dev/null; then
    tshark -i lo -f "tcp port $TLS_PORT" -w "$CAPTURE" -q >"$OUT/tshark-capture.log" 2>&1 </dev/null &
    TSHARK_PID=$!
    track_pid "$TSHARK_PID"
    for ((i = 0; i < 50; i++)); do grep -q "Capturing on" "$OUT/tshark-capture.log" 2>/dev/null && break; sleep 0.1; done
fi

pool_start pool-a config/pool-a.json "--Pool:Sip:Transports:2=tls" "--Pool:Sip:TlsPort=$TLS_PORT" \
    "--Pool:Sip:Tls:KeyLogFile=$KEYLOG" "--Pool:PcapFile=$OUT/pool-a.pcap" ||
    { record tls-pool-start fail "could not start pool-a"; exit 1; }
if ! pool_wait_ready pool-a; then
    record tls-pool-start fail "pool-a not ready: $POOL_NOT_READY_REASON"
    exit 1
fi
POOL_A_SIP_PORT=${POOL_SIP_PORT[pool-a]}
POOL_A_ADMIN=${POOL_ADMIN[pool-a]}
CERT="${POOL_DIR[pool-a]}/data/pool-a-tls.crt"
for ((i = 0; i < 40; i++)); do curl -fsS -m 2 "$POOL_A_ADMIN/healthz" >/dev/null 2>&1 && break; sleep 0.25; done
fingerprint=$(curl -fsS -m 3 "$POOL_A_ADMIN/status" | sed -n 's/.*"tlsCertificateSha256":"\([0-9A-F:]*\)".*/\1/p')
log "pool-a: UDP/TCP 127.0.0.1:$POOL_A_SIP_PORT, TLS 127.0.0.1:$TLS_PORT, certificate $CERT (SHA-256 $fingerprint)"

# ---------------------------------------------------------------- sipp

if sipp -t l1 -v >/dev/null 2>&1 && ! timeout 5 sipp -t l1 -sn uac -m 1 -nostdin 127.0.0.1:9 2>&1 | grep -q "compile SIPp with OpenSSL"; then
    skip tls-sipp "this sipp has TLS, but no TLS scenario is written yet"
else
    skip tls-sipp "Debian's sipp $(sipp -v 2>&1 | grep -o 'v[0-9.]*[^ ]*' | head -1) is built without OpenSSL (-t l1: \"To use a TLS transport you must compile SIPp with OpenSSL\"); openssl s_client, baresip and linphone-daemon stand in"
fi

# ---------------------------------------------------------------- openssl s_client: the certificate verifies

file_fingerprint=$(openssl x509 -in "$CERT" -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//')
options="OPTIONS sip:ping@127.0.0.1:$TLS_PORT SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bK-ossl$RANDOM;rport\r\nMax-Forwards: 70\r\nFrom: <sip:probe@callpark.lab>;tag=o1\r\nTo: <sip:ping@127.0.0.1>\r\nCall-ID: ossl-$RANDOM@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
answer=$( (printf "$options"; sleep 2) | timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" -CAfile "$CERT" \
    -verify_ip 127.0.0.1 -verify_return_error -quiet 2>"$OUT/openssl.err" | tr -d '\r' | head -1)
if [[ "$answer" == "SIP/2.0 200 "* && -n "$fingerprint" && "$file_fingerprint" == "$fingerprint" ]]; then
    record tls-openssl pass "certificate verified against $CERT (SHA-256 as /status says); OPTIONS over TLS -> $answer"
else
    record tls-openssl fail "answer '${answer:-none}', /status fingerprint '$fingerprint', file '$file_fingerprint'; $(tail -2 "$OUT/openssl.err" | tr '\n' ' ')"
fi

# ---------------------------------------------------------------- sipsak

# sipsak 0.9.8.1 (GnuTLS) is no stand-in either: it checks the certificate against "127.0.0.1:PORT" (port included,
# so no certificate matches), cuts 5-digit ports to 4 in the Request-URI, and after the handshake reports "nothing
# received, select returned error" even when the pool answered on the connection (seen in the pool's debug log).
skip tls-sipsak "sipsak 0.9.8.1's TLS mode is broken (host:port certificate check, lost answers); openssl, baresip and linphone cover TLS"

# ---------------------------------------------------------------- baresip over TLS

# tls_phone NAME PASSWORD ANSWERMODE SIP_PORT RTP_BASE: a baresip with TLS to the pool, trusting the lab certificate.
tls_phone() {
    local name=$1 pass=$2 mode=$3 port=$4 rtp=$5 dir="$OUT/$1"
    mkdir -p "$dir"
    { sed -e "s/@SIP_PORT@/$port/g" -e "s/@CTRL_PORT@/$((port + 4))/g" -e "s/@RTP_PORTS@/$rtp-$((rtp + 19))/g" \
        "$BARESIP_TEMPLATES/config.template"; printf 'sip_cafile\t\t%s\n' "$CERT"; } >"$dir/config"
    printf '<sip:%s@callpark.lab;transport=tls>;auth_user=%s;auth_pass=%s;outbound="sip:127.0.0.1:%s;transport=tls";regint=300;answermode=%s;audio_codecs=pcmu;mwi=no;pubint=0\n' \
        "$name" "$name" "$pass" "$TLS_PORT" "$mode" >"$dir/accounts"
    baresip -f "$dir" -s -t "$LIFETIME" >"$dir/baresip.log" 2>&1 </dev/null &
    track_pid $!
    "${CTL[@]}" session --port $((port + 4)) --dir "$dir/ctl" --timeout "$LIFETIME" >"$dir/session.log" 2>&1 &
    track_pid $!
}

alice_port=$(pick_sip_port ${INTEROP_TLS_PHONE_PORT:-25300}) && tls_phone alice alice-lab-pw manual "$alice_port" $((alice_port + 100))
bob_port=$(pick_sip_port $((alice_port + 20))) && tls_phone bob bob-lab-pw auto "$bob_port" $((alice_port + 140))
alice_info=$(registered alice) && alice_ok=1 || alice_ok=0
bob_info=$(registered bob) && bob_ok=1 || bob_ok=0
regs=$(curl -fsS -m 3 "$POOL_A_ADMIN/registrations" 2>/dev/null)
if ((alice_ok && bob_ok)) && grep -q '"source":"tls:127.0.0.1' <<<"$regs"; then
    record tls-baresip-register pass "alice and bob registered over TLS (reginfo OK; /registrations sources tls:)"
    baresip_ok=1
else
    record tls-baresip-register fail "alice ${alice_info:-OK}, bob ${bob_info:-OK}; traces in $OUT/*/baresip.log"
    baresip_ok=0
fi

if ((baresip_ok)); then
    "${CTL[@]}" send --dir "$OUT/alice/ctl" --timeout 5 dial sip:bob@callpark.lab >/dev/null 2>&1
    est=1
    for p in alice bob; do "${CTL[@]}" wait --dir "$OUT/$p/ctl" --timeout 15 CALL_ESTABLISHED >/dev/null 2>&1 || est=0; done
    # baresip -s prints "TLS 127.0.0.1:SRC -> 127.0.0.1:DST" before each message it receives.
    invite_from=$(sed 's/\x1b\[[0-9;]*m//g' "$OUT/bob/baresip.log" | tr -d '\r' | grep -B1 -m1 '^INVITE sip:bob' | head -1)
    if ((est)) && [[ "$invite_from" == "TLS 127.0.0.1:$TLS_PORT -> "* ]]; then
        sleep 1
        "${CTL[@]}" send --dir "$OUT/alice/ctl" --timeout 5 hangup >/dev/null 2>&1
        closed=1
        for p in alice bob; do "${CTL[@]}" wait --dir "$OUT/$p/ctl" --timeout 15 CALL_CLOSED >/dev/null 2>&1 || closed=0; done
        if ((closed)); then
            record tls-baresip-call pass "alice called bob over TLS: established on both, bob's INVITE came on his own connection ($invite_from), hang-up closed both"
        else
            record tls-baresip-call fail "established, but CALL_CLOSED missing after alice's hang-up; traces in $OUT/*/baresip.log"
        fi
    else
        record tls-baresip-call fail "established=$est, bob's INVITE arrived as '${invite_from:-not at all}'; traces in $OUT/*/baresip.log"
    fi
fi

# ---------------------------------------------------------------- linphone-daemon over TLS

if command -v linphone-daemon >/dev/null && ((baresip_ok)); then
    lp="$OUT/carol"
    mkdir -p "$lp/.local/share/linphone"
    lp_port=$(pick_sip_port $((bob_port + 20)))
    cat >"$lp/linphonerc" <<EOF
[sip]
sip_port=-1
sip_tcp_port=-1
sip_tls_port=$lp_port
bind_address=127.0.0.1
default_proxy=0
root_ca=$CERT
verify_server_certs=1
verify_server_cn=0
[rtp]
audio_rtp_port=$((alice_port + 180))-$((alice_port + 199))
[net]
firewall_policy=0
[proxy_0]
reg_proxy=<sip:127.0.0.1:$TLS_PORT;transport=tls>
reg_route=<sip:127.0.0.1:$TLS_PORT;transport=tls;lr>
reg_identity=sip:carol@callpark.lab
reg_expires=300
reg_sendregister=1
[auth_info_0]
username=carol
userid=carol
passwd=carol-lab-pw
realm=callpark.lab
domain=callpark.lab
[misc]
enable_video=0
[video]
automatically_initiate=0
automatically_accept=0
EOF
    mkfifo "$lp/cmd"
    sleep "$LIFETIME" >"$lp/cmd" &
    track_pid $!
    HOME="$lp" timeout -k 5 "$LIFETIME" linphone-daemon --config "$lp/linphonerc" --log "$lp/daemon.log" \
        --disable-stats-events <"$lp/cmd" >"$lp/out.log" 2>&1 &
    track_pid $!
    lp_registered=0
    for ((i = 0; i < 30; i++)); do
        timeout 3 sh -c 'printf "%s\n" "$1" >"$2"' _ "register-status ALL" "$lp/cmd"
        sleep 0.5
        if grep -q 'State: LinphoneRegistrationOk' "$lp/out.log"; then lp_registered=1; break; fi
    done
    if ((lp_registered)); then
        timeout 3 sh -c 'printf "%s\n" "$1" >"$2"' _ "call sip:bob@callpark.lab" "$lp/cmd"
        if "${CTL[@]}" wait --dir "$OUT/bob/ctl" --timeout 20 --count 2 CALL_ESTABLISHED >/dev/null 2>&1; then
            record tls-linphone pass "linphone-daemon registered over TLS (root_ca = lab certificate, verify_server_certs=1) and its call to baresip bob was established"
        else
            record tls-linphone fail "registered over TLS, but its call to bob was not established; see $lp/daemon.log"
        fi
    else
        record tls-linphone fail "no LinphoneRegistrationOk within 20 s; see $lp/daemon.log and $lp/out.log"
    fi
fi

# ---------------------------------------------------------------- tshark: the key log decrypts the capture

pool_stop pool-a
if [[ -n "$TSHARK_PID" ]]; then
    stop_pid "$TSHARK_PID" 30
    # The TLS port is not 5061, so tshark is told: TCP there is TLS, and what TLS carries there is SIP.
    decode=(-d "tcp.port==$TLS_PORT,tls" -d "tls.port==$TLS_PORT,sip")
    encrypted=$(tshark -r "$CAPTURE" "${decode[@]}" -Y sip 2>/dev/null | wc -l)
    decrypted=$(tshark -r "$CAPTURE" -o "tls.keylog_file:$KEYLOG" "${decode[@]}" -Y sip 2>/dev/null | wc -l)
    in_clear=$(tshark -r "$OUT/pool-a.pcap" -d "tcp.port==$TLS_PORT,sip" -Y "sip && tcp.port==$TLS_PORT" 2>/dev/null | wc -l)
    if ((decrypted > 0 && encrypted == 0 && in_clear == decrypted)); then
        record tls-keylog-tshark pass "capture of the TLS port: 0 SIP frames without the key log, $decrypted with -o tls.keylog_file ($(grep -c . "$KEYLOG") key lines), as many as the pool's own pcap holds in clear on tcp port $TLS_PORT"
    else
        record tls-keylog-tshark fail "SIP frames: $encrypted without keys, $decrypted with $KEYLOG, $in_clear in the pool's pcap; capture $CAPTURE"
    fi
else
    skip tls-keylog-tshark "tshark is not installed"
fi

((INTEROP_FAILURES == 0))
