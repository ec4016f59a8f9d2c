#!/usr/bin/env python3
"""Sends RFC 4475 message files (*.dat) to a running pool, one socket each, and prints what came back.

    python3 tools/torture/send-rfc4475.py DIR [--pool 127.0.0.1:5060] [--tcp] [--wait 2]

Over UDP the top Via's sent-by is pointed at the sending socket so the answer (RFC 3261 §18.2.2) comes back to it;
over TCP every file goes on its own connection unchanged. After each file an OPTIONS ping to the pool's own address
must get 200. Loopback only: the pool address must be in 127.0.0.0/8. Exit code 1 when a ping went unanswered.
"""
import argparse
import ipaddress
import pathlib
import re
import socket
import sys
import time

VIA = re.compile(rb"(?im)^(?:via|v)[ \t]*:\s*SIP\s*/\s*[0-9.]+\s*/\s*[A-Za-z]+\s+([^\s;,]+)")
STATUS = re.compile(rb"^SIP/2\.0 (\d{3}) ", re.M)


def ping(pool, local_port, transport, call_id):
    return (f"OPTIONS sip:{pool[0]}:{pool[1]} SIP/2.0\r\nVia: SIP/2.0/{transport} 127.0.0.1:{local_port};branch=z9hG4bK{call_id};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:torture@callpark.lab>;tag=tt\r\nTo: <sip:{pool[0]}:{pool[1]}>\r\nCall-ID: {call_id}\r\n"
            "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()


def collect(sock, wait, stream):
    """Everything received within `wait` seconds (bounded), split into responses."""
    sock.settimeout(0.2)
    data, deadline = b"", time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            break
        if stream and not chunk:
            data += b"\x00closed"
            break
        data += chunk + (b"" if stream else b"\x00")
    return data


def send_one(path, pool, tcp, wait, index):
    message = path.read_bytes()
    call_id = f"ping-{index}"
    if tcp:
        sock = socket.create_connection(pool, timeout=wait)
        transport = "TCP"
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        transport = "UDP"
        port = sock.getsockname()[1]
        message = VIA.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + f"127.0.0.1:{port}".encode(), message, count=1)
    with sock:
        local_port = sock.getsockname()[1]
        if tcp:
            sock.sendall(message)
        else:
            sock.sendto(message, pool)
        answer = collect(sock, wait, tcp)
        statuses = [s.decode() for s in STATUS.findall(answer)]
        closed = b"\x00closed" in answer
    # The ping goes on a fresh socket: a TCP connection may be closed or still hold an incomplete message.
    with (socket.create_connection(pool, timeout=wait) if tcp else socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) as probe:
        if not tcp:
            probe.bind(("127.0.0.1", 0))
        p = ping(pool, probe.getsockname()[1], transport, call_id)
        probe.sendall(p) if tcp else probe.sendto(p, pool)
        pong = STATUS.findall(collect(probe, wait, tcp))
    return local_port, statuses, closed, pong[:1] == [b"200"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=pathlib.Path)
    parser.add_argument("--pool", default="127.0.0.1:5060")
    parser.add_argument("--tcp", action="store_true")
    parser.add_argument("--wait", type=float, default=1.0, help="seconds to collect answers after each file (max 10)")
    args = parser.parse_args()
    host, port = args.pool.rsplit(":", 1)
    if not ipaddress.ip_address(host).is_loopback:
        sys.exit("--pool must be a loopback address")
    pool, wait = (host, int(port)), min(max(args.wait, 0.1), 10.0)
    files = sorted(p for p in args.folder.glob("*.dat"))[:200]
    unanswered = 0
    for index, path in enumerate(files, 1):
        local_port, statuses, closed, pong = send_one(path, pool, args.tcp, wait, index)
        unanswered += not pong
        seen = "+".join(statuses) or ("closed" if closed else "none")
        print(f"{path.stem:<12} {'tcp' if args.tcp else 'udp'}:127.0.0.1:{local_port:<6} {seen:<10} ping {'200' if pong else 'UNANSWERED'}")
    print(f"{len(files)} files sent, {len(files) - unanswered} pings answered")
    return 1 if unanswered else 0


if __name__ == "__main__":
    sys.exit(main())
