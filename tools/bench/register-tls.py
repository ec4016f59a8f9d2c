#!/usr/bin/env python3
"""REGISTER/s over TLS beside UDP, with one load generator for both (sipp cannot: Debian builds it without OpenSSL).

Each of --workers workers registers one lab user in a loop, one REGISTER at a time: REGISTER, 401, REGISTER with the
digest answer (RFC 2617 MD5, qop=auth), 200 -- the same two round trips as tools/bench/sipp/register-auth.xml. Over
TLS every worker keeps its own TLS connection (certificate verified against --cafile); over UDP its own socket. The
figure is 200 OKs per second over --seconds. Bounded: every read waits at most 5 s, the run stops after --seconds.

    register-tls.py --transport tls --port 5061 --cafile data/pool-a-tls.crt --seconds 10 --workers 8
    register-tls.py --transport udp --port 5060 --seconds 10 --workers 8

Prints one line: transport=… workers=… seconds=… ok=… failed=… rate=… (rate = ok / seconds).
"""
import argparse
import asyncio
import hashlib
import os
import re
import ssl
import time

USERS = [("alice", "alice-lab-pw"), ("bob", "bob-lab-pw"), ("carol", "carol-lab-pw"), ("dave", "dave-lab-pw")]
DOMAIN = "callpark.lab"
READ_TIMEOUT = 5.0


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def register(user, contact, transport, local, call_id, cseq, branch, authorization=None):
    via = "TLS" if transport == "tls" else "UDP"
    lines = [
        f"REGISTER sip:{DOMAIN} SIP/2.0",
        f"Via: SIP/2.0/{via} {local};branch=z9hG4bK{branch};rport",
        "Max-Forwards: 70",
        f"From: <sip:{user}@{DOMAIN}>;tag={call_id[:8]}",
        f"To: <sip:{user}@{DOMAIN}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        f"Contact: <{contact}>",
        "Expires: 60",
    ]
    if authorization:
        lines.append(f"Authorization: {authorization}")
    lines += ["Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()


def answer(challenge, user, password, nc):
    realm = re.search(r'realm="([^"]*)"', challenge).group(1)
    nonce = re.search(r'nonce="([^"]*)"', challenge).group(1)
    opaque = re.search(r'opaque="([^"]*)"', challenge)
    cnonce = os.urandom(8).hex()
    uri = f"sip:{DOMAIN}"
    ha1 = md5(f"{user}:{realm}:{password}")
    ha2 = md5(f"REGISTER:{uri}")
    response = md5(f"{ha1}:{nonce}:{nc:08x}:{cnonce}:auth:{ha2}")
    text = (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", response="{response}", '
            f'algorithm=MD5, qop=auth, nc={nc:08x}, cnonce="{cnonce}"')
    return text + (f', opaque="{opaque.group(1)}"' if opaque else "")


def status_and_challenge(message):
    head = message.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
    status = int(head.split(" ", 2)[1])
    challenge = next((line.split(":", 1)[1] for line in head.split("\r\n") if line.lower().startswith("www-authenticate:")), "")
    return status, challenge


class TlsLink:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.local = "%s:%d" % writer.get_extra_info("sockname")[:2]

    async def exchange(self, data):
        self.writer.write(data)
        await self.writer.drain()
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
        length = int(re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", head).group(1))
        body = await asyncio.wait_for(self.reader.readexactly(length), READ_TIMEOUT) if length else b""
        return head + body

    def close(self):
        self.writer.close()


class UdpLink(asyncio.DatagramProtocol):
    def __init__(self):
        self.waiting = None
        self.transport = None
        self.local = None

    def connection_made(self, transport):
        self.transport = transport
        self.local = "%s:%d" % transport.get_extra_info("sockname")[:2]

    def datagram_received(self, data, addr):
        if self.waiting and not self.waiting.done():
            self.waiting.set_result(data)

    async def exchange(self, data):
        self.waiting = asyncio.get_running_loop().create_future()
        self.transport.sendto(data)
        return await asyncio.wait_for(self.waiting, READ_TIMEOUT)

    def close(self):
        self.transport.close()


async def worker(index, args, deadline, counts):
    user, password = args.users[index % len(args.users)]
    if args.transport == "tls":
        context = ssl.create_default_context(cafile=args.cafile)
        context.check_hostname = False  # the lab certificate names 127.0.0.1 as an IP SAN; the chain is still verified
        reader, writer = await asyncio.wait_for(asyncio.open_connection(args.host, args.port, ssl=context), READ_TIMEOUT)
        link = TlsLink(reader, writer)
    else:
        _, link = await asyncio.get_running_loop().create_datagram_endpoint(UdpLink, remote_addr=(args.host, args.port))
    call_id = f"bench-{index}-{os.urandom(6).hex()}"
    # One Contact per worker, the same run after run: a binding is refreshed, never added (Pool:Registrar:MaxContactsPerAor).
    contact = f"sip:{user}@127.0.0.1:{40000 + index};transport={args.transport}"
    cseq = 0
    try:
        while time.monotonic() < deadline:
            cseq += 1
            try:
                status, challenge = status_and_challenge(await link.exchange(
                    register(user, contact, args.transport, link.local, call_id, cseq, os.urandom(6).hex())))
                if status == 401:
                    cseq += 1
                    status, _ = status_and_challenge(await link.exchange(register(
                        user, contact, args.transport, link.local, call_id, cseq, os.urandom(6).hex(), answer(challenge, user, password, 1))))
                if status == 200:
                    counts["ok"] += 1
                else:
                    counts["failed"] += 1
                    counts["error"] = f"status {status}"
            except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError) as e:
                counts["failed"] += 1
                counts["error"] = repr(e)
                if args.transport == "tls":
                    break
    finally:
        link.close()


def read_users(path):
    """The generated users of tools/bench/benchdata.py, from its sipp injection file."""
    users = []
    with open(path) as f:
        for line in f:
            found = re.search(r"username=(\S+) password=([^\]\s]+)", line)
            if found:
                users.append((found.group(1), found.group(2)))
    if not users:
        raise SystemExit(f"no users in {path}")
    return users


async def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transport", choices=["udp", "tls"], required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cafile", help="the pool's certificate (TLS)")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--users", help="sipp injection file (user;[authentication username=U password=P]); default: the lab's")
    args = parser.parse_args()
    args.users = read_users(args.users) if args.users else USERS
    if not args.host.startswith("127."):
        parser.error("loopback only")
    if args.transport == "tls" and not args.cafile:
        parser.error("--cafile is needed over TLS")
    counts = {"ok": 0, "failed": 0, "error": ""}
    start = time.monotonic()
    deadline = start + args.seconds
    await asyncio.gather(*(worker(i, args, deadline, counts) for i in range(args.workers)))
    took = time.monotonic() - start
    print(f"transport={args.transport} workers={args.workers} seconds={took:.1f} ok={counts['ok']} failed={counts['failed']} "
          f"rate={counts['ok'] / took:.0f}" + (f" last_error={counts['error']}" if counts["error"] else ""))


if __name__ == "__main__":
    asyncio.run(main())
