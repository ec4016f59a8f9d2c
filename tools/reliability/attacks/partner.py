#!/usr/bin/env python3
"""Attacks on the paired-pool trust of a running pool (docs/design.md section 11 "Trust", docs/reliability.md
"Security: partner pool and replication"): someone on the same host posing as the partner pool by its address and
Via, reading the DR phases, answering the probes in its place, and writing the replication endpoints.

Environment (loopback only):
  ATTACK_SIP            127.0.0.1:PORT  the pool under attack (SIP, UDP and TCP)
  ATTACK_ADMIN          http://127.0.0.1:PORT  its admin API
  ATTACK_PARTNER_SIP    127.0.0.1:PORT  its partner's SIP address as the topology names it
  ATTACK_PARTNER_ADMIN  http://127.0.0.1:PORT  the partner's admin API (only its pool name is needed: see below)
  ATTACK_SECRET         the pools' Pool:Partner:Secret (optional: for the replay, skew and content attacks, which need
                        a request that would otherwise be taken)
  ATTACK_POOL / ATTACK_PARTNER_POOL  names of the attacked pool and of its partner (default: read from /status)
  ATTACK_DOMAIN         SIP domain (default: read from /status)
  ATTACK_LOCAL_USER     a user homed on the attacked pool (default alice)
  ATTACK_LOCAL_ORBIT / ATTACK_PARTNER_ORBIT  an orbit of each pool (default 7000 and 7100, the lab's)

Prints one line per attack, `ATTACK <name>: blocked (<evidence>)` or `ATTACK <name>: VULNERABLE (<evidence>)`, and
exits 1 when any is vulnerable. Every wait is bounded; nothing is sent beyond loopback.
"""
import base64
import hashlib
import hmac
import json
import os
import secrets
import socket
import sys
import time
import urllib.error
import urllib.request

TIMEOUT = 3.0
results = []


def report(name, blocked, evidence):
    results.append(not blocked)
    print(f"ATTACK {name}: {'blocked' if blocked else 'VULNERABLE'} ({evidence})", flush=True)


def skip(name, why):
    """An attack this run could not try: said as such, never counted as blocked."""
    print(f"ATTACK {name}: skipped ({why})", flush=True)


def endpoint(text):
    host, port = text.rsplit(":", 1)
    if not (host.startswith("127.") or host == "localhost"):
        sys.exit(f"partner.py: {text} is not on loopback; refusing to attack it")
    return host, int(port)


def http(method, url, body=None, headers=None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


SIP = endpoint(os.environ.get("ATTACK_SIP", "127.0.0.1:5060"))
ADMIN = os.environ.get("ATTACK_ADMIN", "http://127.0.0.1:8060").rstrip("/")
PARTNER_SIP = endpoint(os.environ.get("ATTACK_PARTNER_SIP", "127.0.0.1:5062"))
SECRET = os.environ.get("ATTACK_SECRET")
status_code, status_text = http("GET", ADMIN + "/status")
status = json.loads(status_text) if status_code == 200 else {}
POOL = os.environ.get("ATTACK_POOL") or status.get("pool") or "pool-a"
DOMAIN = os.environ.get("ATTACK_DOMAIN") or status.get("domain") or "callpark.lab"
PARTNER = os.environ.get("ATTACK_PARTNER_POOL") or next(
    (d["pool"] for d in status.get("dr", []) if d.get("pool") != POOL), "pool-b")
LOCAL_USER = os.environ.get("ATTACK_LOCAL_USER", "alice")


def sip_request(method, transport, via_host, call_id, uri=None, extra=""):
    uri = uri or f"sip:{LOCAL_USER}@{DOMAIN}"
    return (f"{method} {uri} SIP/2.0\r\n"
            f"Via: SIP/2.0/{transport} {via_host[0]}:{via_host[1]};rport;branch=z9hG4bK-{call_id}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:attacker@{DOMAIN}>;tag=atk\r\n"
            f"To: <{uri}>\r\n"
            f"Call-ID: {call_id}\r\n"
            f"CSeq: 1 {method}\r\n"
            f"Contact: <sip:attacker@{via_host[0]}:{via_host[1]}>\r\n"
            f"{extra}"
            "Content-Length: 0\r\n\r\n").encode()


def first_answer(receive, call_id):
    """The first answer above 100 to call_id, or None within the bound."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            data = receive()
        except (socket.timeout, TimeoutError):
            break
        if not data:
            break
        for text in data.decode("utf-8", "replace").split("SIP/2.0 ")[1:]:
            code = text[:3]
            if code.isdigit() and int(code) > 100 and f"Call-ID: {call_id}" in text:
                return int(code), text
    return None, ""


def udp_socket(bind):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    try:
        s.bind(bind)
        return s, True
    except OSError:
        s.bind(("127.0.0.1", 0))
        return s, False


def attack_forged_via_udp():
    s, own_port = udp_socket(PARTNER_SIP)
    with s:
        call_id = "atk-via-udp-" + secrets.token_hex(4)
        s.sendto(sip_request("INVITE", "UDP", PARTNER_SIP, call_id), SIP)
        code, _ = first_answer(lambda: s.recv(65535), call_id)
    where = "from the partner's own port" if own_port else "partner port busy, from another port"
    report("partner-forged-via-udp", code == 407, f"INVITE with the partner's Via {where} answered {code}")


def attack_forged_via_tcp(method, name, uri=None, extra=""):
    with socket.create_connection(SIP, timeout=TIMEOUT) as s:
        s.settimeout(0.5)
        call_id = f"atk-{name}-" + secrets.token_hex(4)
        s.sendall(sip_request(method, "TCP", PARTNER_SIP, call_id, uri, extra))
        code, _ = first_answer(lambda: s.recv(65535), call_id)
    report(name, code == 407, f"{method} over TCP with the partner's Via answered {code}")


def attack_phase_leak():
    s, _ = udp_socket(("127.0.0.1", 0))
    with s:
        call_id = "atk-options-" + secrets.token_hex(4)
        local = s.getsockname()
        s.sendto(sip_request("OPTIONS", "UDP", local, call_id, uri=f"sip:{SIP[0]}:{SIP[1]}"), SIP)
        code, text = first_answer(lambda: s.recv(65535), call_id)
    leaked = "X-DR-Phase" in text
    report("probe-phase-leak", code is not None and not leaked,
           f"OPTIONS from a stranger answered {code}, {'with' if leaked else 'without'} X-DR-Phase")


def attack_probe_answers():
    """Answers the attacked pool's probes at the partner's address with FailedOver, unsigned, then reads /status."""
    s, own_port = udp_socket(PARTNER_SIP)
    with s:
        if not own_port:
            skip("probe-answer-forgery", "the partner's UDP port is in use (the partner is up); attack.sh tries it once the partner is stopped")
            return
        answered = 0
        deadline = time.monotonic() + 4.0
        while time.monotonic() < deadline and answered < 3:
            try:
                data, source = s.recvfrom(65535)
            except (socket.timeout, TimeoutError):
                continue
            text = data.decode("utf-8", "replace")
            if not text.startswith("OPTIONS "):
                continue
            head = text.split("\r\n\r\n", 1)[0].split("\r\n")[1:]
            keep = [h for h in head if h.split(":", 1)[0].lower() in ("via", "from", "to", "call-id", "cseq", "v", "f", "t", "i")]
            reply = ("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\n"
                     f"X-DR-Phase: {POOL}=FailedOver, {PARTNER}=Normal\r\n"
                     f"X-Pool-Auth: pool={PARTNER};ts={int(time.time())};nonce={secrets.token_hex(12)};sig=forged\r\n"
                     "Content-Length: 0\r\n\r\n")
            s.sendto(reply.encode(), source)
            answered += 1
    code, text = http("GET", ADMIN + "/status")
    phase = next((d.get("phase") for d in json.loads(text).get("dr", []) if d.get("pool") == POOL), "?") if code == 200 else "?"
    report("probe-answer-forgery", answered > 0 and phase == "Normal",
           f"{answered} probes answered with {POOL}=FailedOver and a forged signature; {POOL} now {phase}")


def sign(method, path, body, secret, pool, skew=0):
    ts = int(time.time()) + skew
    nonce = secrets.token_hex(12)
    text = f"v1\nhttp\n{pool.lower()}\n{ts}\n{nonce}\n{method}\n{path}\n{hashlib.sha256(body).hexdigest()}"
    mac = hmac.new(secret.strip().encode(), text.encode(), hashlib.sha256).digest()
    sig = base64.urlsafe_b64encode(mac).decode().rstrip("=")
    return f"pool={pool};ts={ts};nonce={nonce};sig={sig}"


def replicate(body, auth=None, token=None, what="changes", method="POST"):
    path = f"/replication/{PARTNER}/{what}"
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if auth is not None:
        headers["X-Pool-Auth"] = auth(method, path, data) if callable(auth) else auth
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return http(method, ADMIN + path, data, headers)


def binding(user, contact):
    return {"aor": f"sip:{user}@{DOMAIN}", "contact": f"<{contact}>", "expiresAt": "2099-01-01T00:00:00Z", "q": 1.0,
            "callId": "atk", "cSeq": 1, "instanceId": None, "regId": None, "source": None, "mode": "normal", "pool": PARTNER}


def park(orbit, target):
    return {"orbit": orbit, "pool": PARTNER, "callId": "atk-park", "localTag": "a", "remoteTag": "b",
            "localUri": f"<sip:{orbit}@{DOMAIN}>", "remoteUri": f"<sip:victim@{DOMAIN}>", "remoteTarget": target,
            "routeSet": [], "localCSeq": 1, "parkedParty": f"<sip:victim@{DOMAIN}>", "parker": f"sip:attacker@{DOMAIN}",
            "parkedAt": "2026-01-01T00:00:00Z", "timeoutDue": None, "attempts": 0, "state": "parked"}


INJECTED = {"bindings": [{"aor": f"sip:{LOCAL_USER}@{DOMAIN}", "bindings": [binding(LOCAL_USER, "sip:victim@127.0.0.1:9999")]}],
            "parks": [], "removedOrbits": []}


def attack_replication():
    code, _ = replicate(INJECTED)
    report("replication-unsigned", code in (401, 403), f"POST changes without a signature answered {code}")
    code, _ = replicate({"bindings": [], "parks": []}, what="snapshot", method="PUT")
    report("replication-unsigned-wipe", code in (401, 403), f"PUT an empty snapshot without a signature answered {code}")
    code, _ = replicate(INJECTED, token=os.environ.get("ATTACK_ADMIN_TOKEN", "operator-token"))
    report("replication-operator-token", code in (401, 403), f"POST changes with a bearer token only answered {code}")
    code, _ = replicate(INJECTED, auth=lambda m, p, d: sign(m, p, d, "a-guessed-secret-0123456789", PARTNER))
    report("replication-wrong-secret", code in (401, 403), f"POST changes signed with a guessed secret answered {code}")
    code, _ = replicate(INJECTED, auth=f"pool={PARTNER};ts={int(time.time())};nonce={secrets.token_hex(12)};sig=AAAA")
    report("replication-forged-signature", code in (401, 403), f"POST changes with a made-up signature answered {code}")
    if not SECRET:
        for name in ("replication-replay", "replication-skew", "replication-foreign-user", "replication-foreign-orbit", "replication-bad-target"):
            skip(name, "ATTACK_SECRET not given")
        return
    empty = {"bindings": [], "parks": [], "removedOrbits": []}
    data = json.dumps(empty).encode()
    path = f"/replication/{PARTNER}/changes"
    header = sign("POST", path, data, SECRET, PARTNER)
    first, _ = replicate(empty, auth=header)
    again, _ = replicate(empty, auth=header)
    report("replication-replay", again in (401, 403), f"a signed empty batch answered {first}, the same request replayed {again}")
    code, _ = replicate(empty, auth=lambda m, p, d: sign(m, p, d, SECRET, PARTNER, skew=-300))
    report("replication-skew", code in (401, 403), f"a batch signed 300 s ago answered {code}")
    code, text = replicate(INJECTED, auth=lambda m, p, d: sign(m, p, d, SECRET, PARTNER))
    report("replication-foreign-user", code >= 400 or "left out" in text,
           f"a signed binding of {LOCAL_USER} (homed on {POOL}) to 127.0.0.1:9999 sent as {PARTNER}'s answered {code}: {text[:120]}")
    orbit = os.environ.get("ATTACK_LOCAL_ORBIT", "7000")
    code, text = replicate({"bindings": [], "parks": [park(orbit, f"sip:victim@127.0.0.1:9999")], "removedOrbits": []},
                           auth=lambda m, p, d: sign(m, p, d, SECRET, PARTNER))
    report("replication-foreign-orbit", code >= 400, f"a signed park on {POOL}'s orbit {orbit} sent as {PARTNER}'s answered {code}")
    code, text = replicate({"bindings": [], "parks": [park(os.environ.get("ATTACK_PARTNER_ORBIT", "7100"), "http://127.0.0.1:9999/")],
                            "removedOrbits": []},
                           auth=lambda m, p, d: sign(m, p, d, SECRET, PARTNER))
    report("replication-bad-target", code >= 400, f"a signed park with an http: target answered {code}")


def main():
    if "--probe-answers-only" in sys.argv[1:]:
        # Run by attack.sh after it stopped the partner, so this script can take the partner's address.
        attack_probe_answers()
        return 1 if any(results) else 0
    attack_forged_via_udp()
    attack_forged_via_tcp("INVITE", "partner-forged-via-tcp")
    attack_forged_via_tcp("REFER", "partner-forged-via-refer", uri=f"sip:park@{DOMAIN}",
                          extra=f"Refer-To: <sip:{LOCAL_USER}@{DOMAIN}>\r\n")
    attack_phase_leak()
    attack_probe_answers()
    attack_replication()
    return 1 if any(results) else 0


if __name__ == "__main__":
    sys.exit(main())
