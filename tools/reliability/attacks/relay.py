#!/usr/bin/env python3
"""Issue 12, one pool trusting its users' claims: replays each attack against a running pool and prints one line each,
`ATTACK <name>: blocked (<evidence>)` or `ATTACK <name>: VULNERABLE (<evidence>)`.

Environment (set by tools/reliability/attack.sh): ATTACK_SIP=127.0.0.1:PORT (the pool under attack), ATTACK_ADMIN=http://..
Raw UDP/TCP sockets on loopback only; every wait is bounded. The lab passwords of config/users.json play the attacker's
own account (alice) and a victim that registered (bob)."""
import hashlib
import json
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.request
import uuid

SIP = os.environ.get("ATTACK_SIP", "127.0.0.1:5060")
ADMIN = os.environ.get("ATTACK_ADMIN", "http://127.0.0.1:8060")
HOST, PORT = SIP.rsplit(":", 1)
POOL = (HOST, int(PORT))
DOMAIN = "callpark.lab"
QUIET = 1.5  # how long "nothing was relayed" is watched: a relay on loopback takes milliseconds


def say(name, blocked, evidence):
    print(f"ATTACK {name}: {'blocked' if blocked else 'VULNERABLE'} ({evidence})", flush=True)


def answer_200(request):
    lines = request.split("\r\n")
    keep = [l for l in lines[1:] if re.match(r"(?i)^(via|from|to|call-id|cseq|v|f|t|i):", l)]
    return "SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n"


class Client:
    """One UDP socket that writes requests by hand and reads the final answer."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.cseq = 0

    def request(self, method, uri, from_uri, to_uri=None, to_tag=None, call_id=None, extra=(), contact=None):
        self.cseq += 1
        lines = [f"{method} {uri} SIP/2.0",
                 f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{uuid.uuid4().hex};rport",
                 "Max-Forwards: 70",
                 f"From: <{from_uri}>;tag=att{self.port}",
                 f"To: <{to_uri or uri}>" + (f";tag={to_tag}" if to_tag else ""),
                 f"Call-ID: {call_id or uuid.uuid4().hex}",
                 f"CSeq: {self.cseq} {method}",
                 f"Contact: <{contact or f'sip:attacker@127.0.0.1:{self.port}'}>"]
        lines += list(extra)
        return "\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n"

    def send(self, text, wait=5.0):
        """Sends and returns (status, response text) of the first final answer, or (None, '') after `wait` s."""
        self.sock.sendto(text.encode(), POOL)
        return self.final(text, wait)

    def final(self, text, wait=5.0):
        """The first final answer to `text` already sent, as (status, response text), or (None, '') after `wait` s."""
        end = time.monotonic() + wait
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None, ""
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                return None, ""
            reply = data.decode("utf-8", "replace")
            m = re.match(r"SIP/2\.0 (\d{3})", reply)
            # Only the answer to this request: a late answer to an earlier one (a relay's) must not stand in for it.
            if m and int(m.group(1)) >= 200 and header(reply, "Call-ID|i") == header(text, "Call-ID"):
                if reply.find("INVITE") > 0 and re.search(r"(?im)^CSeq:\s*\d+\s+INVITE", reply):
                    self.ack(text, reply)
                return int(m.group(1)), reply

    def ack(self, invite, reply):
        """The ACK of a non-2xx final to an INVITE (hop by hop), so the pool stops retransmitting it."""
        head = invite.split("\r\n")
        via = next(l for l in head if l.startswith("Via:"))
        frm = next(l for l in head if l.startswith("From:"))
        cid = next(l for l in head if l.startswith("Call-ID:"))
        cseq = next(l for l in head if l.startswith("CSeq:")).split()[1]
        to = next((l for l in reply.split("\r\n") if re.match(r"(?i)^(to|t):", l)), "To: <x>")
        self.sock.sendto((f"ACK {head[0].split()[1]} SIP/2.0\r\n{via}\r\nMax-Forwards: 70\r\n{frm}\r\n{to}\r\n{cid}\r\n"
                          f"CSeq: {cseq} ACK\r\nContent-Length: 0\r\n\r\n").encode(), POOL)

    def requests(self, seconds=QUIET):
        """Every request received within `seconds` (answered 200 so the pool stops retransmitting): what a relay
        would have delivered here."""
        got, end = [], time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return got
            self.sock.settimeout(left)
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                return got
            text = data.decode("utf-8", "replace")
            if text.startswith("SIP/2.0"):
                continue
            got.append(text.split("\r\n", 1)[0])
            if not text.startswith("ACK"):
                self.sock.sendto(answer_200(text).encode(), peer)

    def close(self):
        self.sock.close()


def header(text, name):
    m = re.search(rf"(?im)^(?:{name}):\s*(.*)$", text)
    return m.group(1).strip() if m else ""


def digest(challenge, user, password, method, uri, nc=1, qop=True, cnonce="0a4f113b"):
    """Credentials answering an MD5 challenge (RFC 2617/3261); qop=False writes an RFC 2069 response."""
    params = dict(re.findall(r'(\w+)="?([^",]+)"?', challenge))
    realm, nonce = params["realm"], params["nonce"]
    ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    text = f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", algorithm=MD5'
    if qop:
        ncv = f"{nc:08x}"
        resp = hashlib.md5(f"{ha1}:{nonce}:{ncv}:{cnonce}:auth:{ha2}".encode()).hexdigest()
        return text + f', response="{resp}", qop=auth, nc={ncv}, cnonce="{cnonce}"'
    return text + f', response="{hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()}"'


def challenge_for(client, method, uri, from_uri, extra=(), header_name="Proxy-Authenticate"):
    status, reply = client.send(client.request(method, uri, from_uri, extra=extra))
    return status, header(reply, header_name)


def authed(client, method, uri, user, password, extra=(), digest_uri=None, qop=True, to_uri=None):
    """Sends the request, answers the 407 as `user`, returns (status, reply, credentials used)."""
    status, chal = challenge_for(client, method, uri, f"sip:{user}@{DOMAIN}", extra)
    if status != 407 or not chal:
        return status, "", ""
    cred = digest(chal, user, password, method, digest_uri or uri, qop=qop)
    status, reply = client.send(client.request(method, uri, f"sip:{user}@{DOMAIN}", to_uri=to_uri,
                                               extra=list(extra) + [f"Proxy-Authorization: {cred}"]))
    return status, reply, cred


def register(client, user, contacts, expires=3600):
    """REGISTER with digest; returns the final status."""
    extra = [f"Contact: {c}" for c in contacts[1:]] + [f"Expires: {expires}"]
    call_id = uuid.uuid4().hex
    text = client.request("REGISTER", f"sip:{DOMAIN}", f"sip:{user}@{DOMAIN}", to_uri=f"sip:{user}@{DOMAIN}",
                          call_id=call_id, extra=extra, contact=contacts[0].strip("<>"))
    status, reply = client.send(text)
    if status != 401:
        return status
    cred = digest(header(reply, "WWW-Authenticate"), user, f"{user}-lab-pw", "REGISTER", f"sip:{DOMAIN}")
    text = client.request("REGISTER", f"sip:{DOMAIN}", f"sip:{user}@{DOMAIN}", to_uri=f"sip:{user}@{DOMAIN}",
                          call_id=call_id, extra=extra + [f"Authorization: {cred}"], contact=contacts[0].strip("<>"))
    return client.send(text)[0]


def tcp_send(text, wait=5.0):
    """Sends one request over a fresh TCP connection; returns the first final status or None."""
    with socket.create_connection(POOL, timeout=wait) as s:
        s.sendall(text.encode())
        end, buf = time.monotonic() + wait, b""
        while time.monotonic() < end:
            s.settimeout(max(0.05, end - time.monotonic()))
            try:
                chunk = s.recv(65535)
            except socket.timeout:
                break
            if not chunk:
                break
            buf += chunk
            for m in re.finditer(rb"SIP/2\.0 (\d{3})", buf):
                if int(m.group(1)) >= 200:
                    return int(m.group(1))
    return None


def main():
    # bob's phone registers from its own socket: the pool reaches a binding at the address its REGISTER came from.
    me, sink, bob_phone = Client(), Client(), Client()
    ok = register(bob_phone, "bob", [f"<sip:bob@127.0.0.1:{bob_phone.port}>"])
    if ok != 200:
        print(f"relay.py: could not register bob as the victim's phone (status {ok})", file=sys.stderr)
    try:
        attacks(me, sink, bob_phone)
    finally:
        register(bob_phone, "bob", [f"<sip:bob@127.0.0.1:{bob_phone.port}>"], expires=0)
        me.close(), sink.close(), bob_phone.close()


def attacks(me, sink, bob_phone):
    pool_route = f"<sip:{HOST}:{PORT};lr>"
    elsewhere = f"<sip:127.0.0.1:{sink.port};lr>"

    # 1. The probe's INVITE: no credentials, a route set that starts at the pool and goes on elsewhere (UDP, then TCP).
    status, _ = me.send(me.request("INVITE", "sip:victim@evil.example", "sip:nobody@attacker.example",
                                   extra=[f"Route: {pool_route}, {elsewhere}"]))
    relayed = sink.requests()
    say("loose-route-invite-udp", status in (401, 403, 407) and not relayed, f"answer {status}, relayed {len(relayed)}")
    status = tcp_send(me.request("INVITE", "sip:victim@evil.example", "sip:nobody@attacker.example",
                                 extra=[f"Route: {pool_route}, {elsewhere}"]).replace("SIP/2.0/UDP", "SIP/2.0/TCP"))
    relayed = sink.requests()
    say("loose-route-invite-tcp", status in (401, 403, 407) and not relayed, f"answer {status}, relayed {len(relayed)}")

    # 2. In-dialog (To tag) to a foreign target along the pool's route: without a token, and with a forged one.
    for name, route in (("in-dialog-no-token", pool_route), ("in-dialog-forged-token", f"<sip:{HOST}:{PORT};lr;cpt={'0' * 32}>")):
        status, _ = me.send(me.request("INVITE", f"sip:victim@127.0.0.1:{sink.port}", "sip:nobody@attacker.example",
                                       to_tag="victimtag", extra=[f"Route: {route}"]))
        relayed = sink.requests()
        say(name, status == 403 and not relayed, f"answer {status}, relayed {len(relayed)}")

    # 3. In-dialog MESSAGE to a registered user, no Route at all: a dialog that never passed the pool.
    status, _ = me.send(me.request("MESSAGE", f"sip:bob@{DOMAIN}", "sip:nobody@attacker.example", to_tag="bobtag"))
    relayed = bob_phone.requests()
    say("in-dialog-to-registered-user", status == 403 and not relayed, f"answer {status}, reached bob {len(relayed)}")

    # 4. An authenticated user (alice) routes past the pool to elsewhere.
    status, _, _ = authed(me, "MESSAGE", "sip:x@example.com", "alice", "alice-lab-pw", extra=[f"Route: {pool_route}, {elsewhere}"])
    relayed = sink.requests()
    say("authenticated-route-past-pool", status == 403 and not relayed, f"answer {status}, relayed {len(relayed)}")

    # 5. Park REFER naming an arbitrary host, with a forged Referred-By.
    refer_to = f"<sip:x@127.0.0.1:{sink.port}?Replaces=any-call%3Bto-tag%3Da%3Bfrom-tag%3Db>"
    status, _, _ = authed(me, "REFER", f"sip:park@{DOMAIN}", "alice", "alice-lab-pw",
                          extra=[f"Refer-To: {refer_to}", f"Referred-By: <sip:ceo@{DOMAIN}>"])
    relayed = sink.requests(3.0)
    say("park-refer-foreign-target", status == 403 and not relayed, f"answer {status}, INVITEs sent there {len(relayed)}")

    # 6. One REGISTER with many contacts (a fork bomb for every call to alice).
    contacts = [f"<sip:alice@127.0.0.1:{30000 + i}>" for i in range(50)]
    status = register(me, "alice", contacts)
    if status == 200:
        register(me, "alice", contacts, expires=0)
    say("register-50-contacts", status == 403, f"answer {status}")

    # 7. Digest: RFC 2069 (no qop), a response for another uri, a replayed nonce count.
    status, _, _ = authed(me, "MESSAGE", f"sip:bob@{DOMAIN}", "alice", "alice-lab-pw", qop=False)
    relayed = bob_phone.requests()
    say("digest-rfc2069", status in (403, 407) and not relayed, f"answer {status}, reached bob {len(relayed)}")
    status, _, _ = authed(me, "MESSAGE", f"sip:bob@{DOMAIN}", "alice", "alice-lab-pw", digest_uri=f"sip:park@{DOMAIN}")
    relayed = bob_phone.requests()
    say("digest-uri-mismatch", status in (403, 407) and not relayed, f"answer {status}, reached bob {len(relayed)}")
    status, chal = challenge_for(me, "MESSAGE", f"sip:bob@{DOMAIN}", f"sip:alice@{DOMAIN}")
    cred = digest(chal, "alice", "alice-lab-pw", "MESSAGE", f"sip:bob@{DOMAIN}") if chal else ""
    sent = me.request("MESSAGE", f"sip:bob@{DOMAIN}", f"sip:alice@{DOMAIN}", extra=[f"Proxy-Authorization: {cred}"])
    me.sock.sendto(sent.encode(), POOL)
    first = bob_phone.requests()  # bob answers 200 while the pool waits for him
    status, _ = me.final(sent, wait=2.0)
    again, _ = me.send(me.request("MESSAGE", f"sip:bob@{DOMAIN}", f"sip:alice@{DOMAIN}", extra=[f"Proxy-Authorization: {cred}"]))
    replayed = bob_phone.requests()
    say("digest-replayed-nc", len(first) == 1 and again in (401, 403, 407) and not replayed,
        f"first {status} (reached bob {len(first)}), replay answered {again}, replay reached bob {len(replayed)}")

    # 8. User enumeration: the same answer for an unknown user as for a known one, before any credentials.
    answers = {}
    for method in ("OPTIONS", "MESSAGE", "SUBSCRIBE"):
        for user in ("zed", "bob"):
            answers[f"{method} {user}"] = me.send(me.request(method, f"sip:{user}@{DOMAIN}", "sip:nobody@attacker.example",
                                                             extra=["Event: presence"] if method == "SUBSCRIBE" else []))[0]
    reg = me.send(me.request("REGISTER", f"sip:{DOMAIN}", f"sip:zed@{DOMAIN}", to_uri=f"sip:zed@{DOMAIN}"))[0]
    leaks = [k for k in answers if k.endswith("zed") and answers[k] != answers[k.replace("zed", "bob")]]
    say("user-enumeration", not leaks and 404 not in answers.values() and reg == 401,
        f"{', '.join(f'{k}={v}' for k, v in answers.items())}, REGISTER zed={reg}")

    # 9. Admin: an error answer carries no exception text.
    try:
        req = urllib.request.Request(f"{ADMIN}/dr/failover", data=b'{"pool": [1,', method="POST",
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5)
        body = ""
    except urllib.error.HTTPError as e:
        body = e.read().decode("utf-8", "replace")
    except OSError as e:
        body = f"unreachable: {e}"
    leaked = any(s in body for s in ("LineNumber:", "System.", "Exception", "   at "))
    say("admin-error-text", body != "" and not leaked and not body.startswith("unreachable"), f"answer {body[:100]!r}")


if __name__ == "__main__":
    main()
